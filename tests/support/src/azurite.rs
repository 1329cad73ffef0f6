//! An Azure Blob Storage emulator for the storage tests: Azurite's `azurite-blob` (from npm) on
//! loopback, in memory.

use crate::loopback::{LoopbackServer, free_port, test_tool};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// Azurite's well-known development account and key (public, in Azure's documentation).
pub const ACCOUNT: &str = "devstoreaccount1";
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A running Azurite blob service, killed when dropped.
pub struct Azurite {
    pub server: LoopbackServer,
}

impl Azurite {
    /// Starts Azurite on a free loopback port and waits until it answers.
    pub fn start() -> Self {
        let binary = test_tool(
            "KILN_TEST_AZURITE",
            ".kiln/test-azurite/node_modules/.bin/azurite-blob",
            "azurite from npm into .kiln/test-azurite",
        );
        let port = free_port();
        let mut command = Command::new(binary);
        command
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .args(["--inMemoryPersistence", "--disableTelemetry", "--silent"]);
        // Any HTTP answer (an anonymous listing is refused) means it is up.
        Self {
            server: LoopbackServer::start(command, port, &format!("/{ACCOUNT}?comp=list")),
        }
    }

    /// `http://127.0.0.1:<port>/devstoreaccount1`, the account's endpoint.
    pub fn account_url(&self) -> String {
        format!("{}/{ACCOUNT}", self.server.endpoint())
    }

    /// Creates `container`, readable without credentials, with a Shared Key signed PUT.
    pub fn create_public_container(&self, container: &str) {
        let date = http_date(SystemTime::now());
        let version = "2021-08-06";
        let path = format!("/{ACCOUNT}/{container}");
        let string_to_sign = format!(
            "PUT\n\n\n\n\n\n\n\n\n\n\n\n\
             x-ms-blob-public-access:container\nx-ms-date:{date}\nx-ms-version:{version}\n\
             /{ACCOUNT}{path}\nrestype:container"
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(&BASE64.decode(KEY).unwrap()).unwrap();
        mac.update(string_to_sign.as_bytes());
        let signature = BASE64.encode(mac.finalize().into_bytes());
        let response = reqwest::blocking::Client::new()
            .put(format!(
                "{}{path}?restype=container",
                self.server.endpoint()
            ))
            .header("x-ms-blob-public-access", "container")
            .header("x-ms-date", &date)
            .header("x-ms-version", version)
            .header("authorization", format!("SharedKey {ACCOUNT}:{signature}"))
            .send()
            .expect("azurite answers");
        let status = response.status();
        assert!(
            status.is_success(),
            "creating container {container}: {status} {}",
            response.text().unwrap_or_default()
        );
    }

    /// The `storage.options` that point an `az://` store at this emulator.
    pub fn options(&self) -> std::collections::BTreeMap<String, String> {
        [
            ("azure_storage_account_name", ACCOUNT.to_string()),
            ("azure_storage_account_key", KEY.to_string()),
            ("azure_storage_endpoint", self.account_url()),
            ("azure_allow_http", "true".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

/// `time` as an RFC 1123 date (`Tue, 24 Nov 2026 00:59:06 GMT`), as `x-ms-date` wants.
fn http_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let month_name = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(month - 1) as usize];
    format!(
        "{weekday}, {day:02} {month_name} {year} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
