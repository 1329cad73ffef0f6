//! Which released version of the contract a plugin was built against, read from its imports.

use std::fmt;

/// A released `kiln:render` version this host serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContractVersion {
    /// `kiln:render@1.0.0`: pages, stills, blobs, `storage.put`.
    V1_0_0,
    /// `kiln:render@1.1.0`: adds recordings, tape baking, `storage.get`.
    V1_1_0,
    /// `kiln:render@1.2.0`: adds `pixels` (stills and videos from RGBA frames a plugin drew).
    V1_2_0,
    /// `kiln:render@1.3.0`: adds `sources` (KidLisp sources and the top-pieces listing, fetched
    /// by the host) and the `sources` capability.
    V1_3_0,
    /// `kiln:render@1.4.0`: adds `libraries` (the bytes of the page libraries) and `recording`
    /// (recordings with a playback rate, blank frames left out, page errors tolerated, and a
    /// flat-colour verdict).
    V1_4_0,
}

impl ContractVersion {
    /// Every version this host serves, oldest first.
    pub const SERVED: [ContractVersion; 5] = [
        ContractVersion::V1_0_0,
        ContractVersion::V1_1_0,
        ContractVersion::V1_2_0,
        ContractVersion::V1_3_0,
        ContractVersion::V1_4_0,
    ];

    /// The newest version.
    pub const LATEST: ContractVersion = ContractVersion::V1_4_0;

    /// `1.0.0`, `1.1.0`, …
    pub fn as_str(self) -> &'static str {
        match self {
            ContractVersion::V1_0_0 => "1.0.0",
            ContractVersion::V1_1_0 => "1.1.0",
            ContractVersion::V1_2_0 => "1.2.0",
            ContractVersion::V1_3_0 => "1.3.0",
            ContractVersion::V1_4_0 => "1.4.0",
        }
    }

    fn parse(version: &str) -> Option<Self> {
        Self::SERVED.into_iter().find(|v| v.as_str() == version)
    }

    fn served_list() -> String {
        Self::SERVED
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for ContractVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The contract version a component's imports name (`kiln:render/browser@1.0.0`, …). A component
/// that imports no `kiln:render` interface is taken to be built against the newest version (its
/// exports are then checked against it). Refuses an unknown version, naming the served ones, and
/// a component that mixes versions.
pub fn contract_version_of(imports: &[String]) -> Result<ContractVersion, String> {
    let mut found: Option<(ContractVersion, &str)> = None;
    for import in imports {
        let Some(rest) = import.strip_prefix("kiln:render/") else {
            continue;
        };
        let Some((_, version)) = rest.split_once('@') else {
            return Err(format!(
                "it imports {import} without a version; this host serves kiln:render {}",
                ContractVersion::served_list()
            ));
        };
        let Some(parsed) = ContractVersion::parse(version) else {
            return Err(format!(
                "it imports {import}, a version of the contract this host does not serve; this \
                 host serves kiln:render {} (rebuild the plugin with a kiln-sdk for one of them, \
                 or upgrade the host)",
                ContractVersion::served_list()
            ));
        };
        match found {
            Some((earlier, earlier_import)) if earlier != parsed => {
                return Err(format!(
                    "it mixes contract versions: {earlier_import} and {import}; a plugin is built \
                     against one version of kiln:render"
                ));
            }
            _ => found = Some((parsed, import)),
        }
    }
    Ok(found.map_or(ContractVersion::LATEST, |(v, _)| v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imports(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_version_comes_from_the_kiln_imports() {
        let v = contract_version_of(&imports(&[
            "wasi:cli/stdout@0.2.6",
            "kiln:render/types@1.0.0",
            "kiln:render/browser@1.0.0",
        ]));
        assert_eq!(v, Ok(ContractVersion::V1_0_0));
        let v = contract_version_of(&imports(&["kiln:render/host@1.1.0"]));
        assert_eq!(v, Ok(ContractVersion::V1_1_0));
        assert_eq!(
            contract_version_of(&imports(&["wasi:cli/stdout@0.2.6"])),
            Ok(ContractVersion::LATEST)
        );
    }

    #[test]
    fn unknown_and_mixed_versions_are_refused_by_name() {
        let err = contract_version_of(&imports(&["kiln:render/host@1.9.0"])).unwrap_err();
        assert!(
            err.contains("kiln:render/host@1.9.0")
                && err.contains("serves kiln:render 1.0.0, 1.1.0, 1.2.0, 1.3.0, 1.4.0"),
            "{err}"
        );
        let err = contract_version_of(&imports(&[
            "kiln:render/types@1.0.0",
            "kiln:render/host@1.1.0",
        ]))
        .unwrap_err();
        assert!(err.contains("mixes contract versions"), "{err}");
    }
}
