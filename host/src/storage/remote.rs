//! Remote object stores opened from a URL: S3 (`s3://`), Azure Blob Storage (`az://`,
//! `azure://`) and Google Cloud Storage (`gs://`).
//!
//! Each client starts from its standard environment variables (`AWS_*`, `AZURE_*`, `GOOGLE_*`),
//! then takes `storage.options`, whose keys must be ones its builder knows. The bucket comes
//! from the URL and the request timeout and retries from Kiln's own `storage.*` settings, so
//! options cannot set those.

use super::settings::StorageSettings;
use anyhow::{Context, Result, bail};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, RetryConfig};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The service a store URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteKind {
    /// Amazon S3 or an S3-compatible server: `s3://`.
    S3,
    /// Azure Blob Storage: `az://` or `azure://`.
    Azure,
    /// Google Cloud Storage: `gs://`.
    Gcs,
}

impl RemoteKind {
    /// The kind for a URL scheme, or `None` when the scheme is not a remote store's.
    pub fn from_scheme(scheme: &str) -> Option<Self> {
        match scheme {
            "s3" => Some(Self::S3),
            "az" | "azure" => Some(Self::Azure),
            "gs" => Some(Self::Gcs),
            _ => None,
        }
    }

    /// What its options look like, for error messages.
    fn option_hint(self) -> &'static str {
        match self {
            Self::S3 => {
                "s3:// stores take AmazonS3ConfigKey names, e.g. aws_endpoint, aws_region, aws_allow_http, aws_access_key_id"
            }
            Self::Azure => {
                "az:// stores take AzureConfigKey names, e.g. azure_storage_account_name, azure_storage_account_key, azure_storage_endpoint, azure_allow_http"
            }
            Self::Gcs => {
                "gs:// stores take GoogleConfigKey names, e.g. google_service_account, google_base_url, google_bearer_token"
            }
        }
    }
}

/// A parsed remote store URL: `<scheme>://<bucket>[/<prefix>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    pub kind: RemoteKind,
    /// The bucket (the container, for Azure).
    pub bucket: String,
    /// Where keys are written inside the bucket; `None` for its root.
    pub prefix: Option<ObjectPath>,
    /// The URL without a trailing `/`; artifact URLs are `<this>/<key>`.
    pub base: String,
}

impl RemoteUrl {
    /// Parses `url`, whose scheme must be a remote store's.
    pub fn parse(url: &url::Url) -> Result<Self> {
        let Some(kind) = RemoteKind::from_scheme(url.scheme()) else {
            bail!(
                "storage.url {url}: the {}:// scheme is not a remote store; use s3://, az://, azure:// or gs://",
                url.scheme()
            );
        };
        let form = format!("{}://<bucket>[/<prefix>]", url.scheme());
        let bucket = url.host_str().unwrap_or_default();
        if bucket.is_empty() {
            bail!("storage.url {url}: the bucket is missing; write {form}");
        }
        if !url.username().is_empty()
            || url.password().is_some()
            || url.port().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            bail!(
                "storage.url {url}: only {form} is understood; put endpoints, accounts and credentials in storage.options or the standard environment variables"
            );
        }
        let trimmed = url.path().trim_matches('/');
        let prefix = if trimmed.is_empty() {
            None
        } else {
            Some(ObjectPath::parse(trimmed).with_context(|| {
                format!("storage.url {url}: the prefix {trimmed:?} is not a valid object path")
            })?)
        };
        let base = match &prefix {
            Some(prefix) => format!("{}://{bucket}/{prefix}", url.scheme()),
            None => format!("{}://{bucket}", url.scheme()),
        };
        Ok(Self {
            kind,
            bucket: bucket.to_string(),
            prefix,
            base,
        })
    }
}

/// Opens the store `remote` names, configured from the environment and `settings`. Nothing is
/// contacted yet: a store that is down shows up when the first artifact is written.
pub fn open_remote(remote: &RemoteUrl, settings: &StorageSettings) -> Result<Arc<dyn ObjectStore>> {
    let retry = RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(settings.retry_backoff_ms),
            max_backoff: Duration::from_millis(settings.retry_max_backoff_ms),
            base: 2.0,
        },
        max_retries: settings.max_retries,
        retry_timeout: Duration::from_millis(settings.retry_timeout_ms),
    };
    let timeout = format!("{}ms", settings.request_timeout_ms);
    let what = || format!("opening storage.url {}", remote.base);
    let store: Arc<dyn ObjectStore> = match remote.kind {
        RemoteKind::S3 => {
            let mut builder = AmazonS3Builder::from_env()
                .with_bucket_name(&remote.bucket)
                .with_retry(retry)
                .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), timeout);
            for (key, value) in options::<AmazonS3ConfigKey>(remote.kind, settings)? {
                builder = builder.with_config(key, value);
            }
            Arc::new(builder.build().with_context(what)?)
        }
        RemoteKind::Azure => {
            let mut builder = MicrosoftAzureBuilder::from_env()
                .with_container_name(&remote.bucket)
                .with_retry(retry)
                .with_config(AzureConfigKey::Client(ClientConfigKey::Timeout), timeout);
            for (key, value) in options::<AzureConfigKey>(remote.kind, settings)? {
                builder = builder.with_config(key, value);
            }
            Arc::new(builder.build().with_context(what)?)
        }
        RemoteKind::Gcs => {
            let mut builder = GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(&remote.bucket)
                .with_retry(retry)
                .with_config(GoogleConfigKey::Client(ClientConfigKey::Timeout), timeout);
            for (key, value) in options::<GoogleConfigKey>(remote.kind, settings)? {
                builder = builder.with_config(key, value);
            }
            Arc::new(builder.build().with_context(what)?)
        }
    };
    Ok(match &remote.prefix {
        Some(prefix) => Arc::new(PrefixStore::new(store, prefix.clone())),
        None => store,
    })
}

/// `storage.options` as builder keys of type `K`. Unknown keys, and keys that Kiln sets itself
/// (the bucket, the request timeout), are errors that name the key.
fn options<K>(kind: RemoteKind, settings: &StorageSettings) -> Result<Vec<(K, String)>>
where
    K: FromStr<Err = object_store::Error> + AsRef<str>,
{
    settings
        .options
        .iter()
        .map(|(name, value)| {
            let key = K::from_str(&name.to_ascii_lowercase()).map_err(|_| {
                anyhow::anyhow!(
                    "storage.options.{name} is not an option of this store: {}",
                    kind.option_hint()
                )
            })?;
            match key.as_ref() {
                "aws_bucket" | "azure_container_name" | "google_bucket" => bail!(
                    "storage.options.{name}: the bucket comes from storage.url; remove the option"
                ),
                "timeout" => bail!(
                    "storage.options.{name}: set storage.request_timeout_ms instead; remove the option"
                ),
                _ => Ok((key, value.clone())),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<RemoteUrl> {
        RemoteUrl::parse(&url::Url::parse(url).unwrap())
    }

    fn settings(options: &[(&str, &str)]) -> StorageSettings {
        StorageSettings {
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..StorageSettings::default()
        }
    }

    #[test]
    fn urls_give_kind_bucket_and_prefix() {
        let s3 = parse("s3://renders/kiln/prod/").unwrap();
        assert_eq!(s3.kind, RemoteKind::S3);
        assert_eq!(s3.bucket, "renders");
        assert_eq!(s3.prefix.as_ref().map(|p| p.as_ref()), Some("kiln/prod"));
        assert_eq!(s3.base, "s3://renders/kiln/prod");

        let az = parse("azure://artifacts").unwrap();
        assert_eq!((az.kind, az.prefix.clone()), (RemoteKind::Azure, None));
        assert_eq!(az.base, "azure://artifacts");
        assert_eq!(parse("az://c/p").unwrap().kind, RemoteKind::Azure);
        assert_eq!(parse("gs://b").unwrap().kind, RemoteKind::Gcs);
    }

    #[test]
    fn malformed_urls_say_what_to_write() {
        for (url, expected) in [
            (
                "s3:///prefix",
                "the bucket is missing; write s3://<bucket>[/<prefix>]",
            ),
            (
                "s3://key:secret@bucket/p",
                "put endpoints, accounts and credentials in storage.options",
            ),
            (
                "gs://bucket:9000/p",
                "only gs://<bucket>[/<prefix>] is understood",
            ),
            ("s3://bucket/a//b", "is not a valid object path"),
            ("ftp://host/x", "not a remote store"),
        ] {
            let err = format!("{:#}", parse(url).unwrap_err());
            assert!(err.contains(expected), "{url}: {err}");
        }
    }

    #[test]
    fn options_are_checked_per_store() {
        let s3 = parse("s3://bucket").unwrap();
        let ok = settings(&[
            ("aws_endpoint", "http://127.0.0.1:9"),
            ("AWS_ALLOW_HTTP", "true"),
            ("aws_region", "eu-west-1"),
            ("aws_access_key_id", "k"),
            ("aws_secret_access_key", "s"),
        ]);
        open_remote(&s3, &ok).unwrap();

        let err = format!(
            "{:#}",
            open_remote(&s3, &settings(&[("aws_endpiont", "x")])).unwrap_err()
        );
        assert!(
            err.contains("storage.options.aws_endpiont is not an option")
                && err.contains("aws_endpoint"),
            "{err}"
        );
        // An Azure key on an S3 store is unknown there.
        let err = format!(
            "{:#}",
            open_remote(&s3, &settings(&[("azure_storage_account_name", "a")])).unwrap_err()
        );
        assert!(
            err.contains("storage.options.azure_storage_account_name"),
            "{err}"
        );

        for (key, expected) in [
            ("aws_bucket", "the bucket comes from storage.url"),
            ("timeout", "storage.request_timeout_ms"),
            ("aws_timeout", "storage.request_timeout_ms"),
        ] {
            let err = format!(
                "{:#}",
                open_remote(&s3, &settings(&[(key, "x")])).unwrap_err()
            );
            assert!(err.contains(expected), "{key}: {err}");
        }

        let az = parse("az://container").unwrap();
        let err = format!(
            "{:#}",
            open_remote(&az, &settings(&[("azure_container_name", "x")])).unwrap_err()
        );
        assert!(err.contains("the bucket comes from storage.url"), "{err}");
        let gs = parse("gs://bucket").unwrap();
        let err = format!(
            "{:#}",
            open_remote(&gs, &settings(&[("aws_region", "x")])).unwrap_err()
        );
        assert!(
            err.contains("storage.options.aws_region") && err.contains("GoogleConfigKey"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_option_value_names_the_store() {
        let s3 = parse("s3://bucket").unwrap();
        let err = format!(
            "{:#}",
            open_remote(&s3, &settings(&[("aws_allow_http", "maybe")])).unwrap_err()
        );
        assert!(err.contains("opening storage.url s3://bucket"), "{err}");
    }
}
