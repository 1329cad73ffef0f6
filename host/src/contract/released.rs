//! The released versions of `wit/` and the SHA-256 of each one's files. A released version never
//! changes: additions go into a new version folder beside it. The test below fails when a
//! released folder's files change, and when a version folder exists that is not listed here.

/// `(version, digest)` of each released `wit/v<version>/` folder: SHA-256 over each `.wit` file's
/// name, a NUL, its bytes and a NUL, in name order.
pub const RELEASED: &[(&str, &str)] = &[
    (
        "1.0.0",
        "b2d45f8e7288d9ca7c7735cbec52513969a0f1986156dacbf719e5c0bf9fd74c",
    ),
    (
        "1.1.0",
        "f2fe2cbcb01284b594e3a64b69876f9628a79c15f9d9803722c066e02088cdba",
    ),
    (
        "1.2.0",
        "d9f7736752083c10b81718b35fc9b5b6f8cb64b8d0d49a25586dad7488e1b605",
    ),
    (
        "1.3.0",
        "5926550b86f5edd021f478080abedc25c4e35e2e2e8bb0e8d84c2603ad588619",
    ),
    (
        "1.4.0",
        "66db331525ea0937a8e20c472136f56809ec7ea60cc2e89f6e0a51d9bfb6cdcf",
    ),
];

#[cfg(test)]
mod tests {
    use super::RELEASED;
    use crate::contract::ContractVersion;
    use sha2::{Digest, Sha256};
    use std::path::Path;

    fn wit_dir() -> &'static Path {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../wit"))
    }

    fn digest_of(version: &str) -> String {
        let dir = wit_dir().join(format!("v{version}"));
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "wit"))
            .collect();
        files.sort();
        let mut hash = Sha256::new();
        for file in files {
            hash.update(file.file_name().unwrap().as_encoded_bytes());
            hash.update([0]);
            hash.update(std::fs::read(&file).unwrap());
            hash.update([0]);
        }
        hex::encode(hash.finalize())
    }

    #[test]
    fn released_wit_versions_are_unchanged() {
        for (version, expected) in RELEASED {
            assert_eq!(
                digest_of(version),
                *expected,
                "wit/v{version} changed, but a released version never changes: put the change \
                 in a new version folder beside it (see wit/README.md)"
            );
        }
    }

    #[test]
    fn every_version_folder_is_released_and_served() {
        for entry in std::fs::read_dir(wit_dir()).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let Some(version) = name.strip_prefix('v') else {
                continue;
            };
            assert!(
                RELEASED.iter().any(|(v, _)| *v == version),
                "wit/{name} is not listed in contract/released.rs"
            );
        }
        for version in ContractVersion::SERVED {
            assert!(
                RELEASED.iter().any(|(v, _)| *v == version.as_str()),
                "{version} is served but not released"
            );
        }
    }
}
