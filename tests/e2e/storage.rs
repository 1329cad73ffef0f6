//! Artifacts in real object stores on loopback: S3 (moto) and Azure Blob Storage (Azurite). p5
//! jobs stored under a prefix, public URLs checked with HEAD (CDN verification), and a store
//! that goes down and comes back.

use kiln::ErrorKind;
use kiln_test_support::azurite::Azurite;
use kiln_test_support::moto::Moto;
use kiln_test_support::*;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

const BUCKET: &str = "kiln-artifacts";

/// Each test starts its own Chromium and moto; one at a time keeps 2 cores inside the 5 s job
/// timeout.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A Kiln whose artifacts go to `s3://kiln-artifacts/<prefix>` on `moto`, with storage retries
/// kept short so a down store fails well inside the 5 s job timeout.
fn s3_kiln(moto: &Moto, prefix: &str, adjust: impl FnOnce(&mut kiln::Config)) -> TestKiln {
    let options = moto.options();
    let url = format!("s3://{BUCKET}/{prefix}");
    TestKiln::start_with(move |config| {
        config.storage.url = Some(url);
        config.storage.options = options;
        config.storage.max_retries = 1;
        config.storage.retry_backoff_ms = 50;
        config.storage.request_timeout_ms = 2000;
        adjust(config);
    })
}

/// GETs `url` without credentials and decodes it as a PNG.
fn fetch_png(url: &str) -> image::RgbaImage {
    let response = reqwest::blocking::get(url).unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(response.status(), 200, "GET {url}");
    let bytes = response.bytes().unwrap();
    assert_eq!(
        image::guess_format(&bytes).ok(),
        Some(image::ImageFormat::Png),
        "{url} is not a PNG"
    );
    image::load_from_memory(&bytes).unwrap().to_rgba8()
}

#[test]
fn a_p5_job_stores_its_png_in_s3_and_reports_the_verified_public_url() {
    let _serial = one_at_a_time();
    let moto = Moto::start();
    moto.create_public_bucket(BUCKET);
    let public = format!("{}/{BUCKET}/renders/v1", moto.endpoint());
    let kiln = s3_kiln(&moto, "renders/v1", |config| {
        config.storage.public_base_url = Some(public.clone());
        config.storage.verify_public_url = true;
    });

    let outcome = kiln.p5(&red_circle(240), 240);
    assert!(
        outcome.succeeded(),
        "{:?}\n{:#?}",
        outcome.error,
        outcome.log
    );
    assert_eq!(outcome.attempts, 1);
    let artifact = &outcome.artifacts[0];
    assert_eq!(artifact.key, format!("{}/image.png", outcome.id));
    assert_eq!(artifact.url, format!("{public}/{}", artifact.key));

    // The object is in moto, under the prefix, and decodes as the right image.
    let image = fetch_png(&artifact.url);
    assert_eq!(image.dimensions(), (240, 240));
    assert!(
        near(image.get_pixel(120, 120), [255, 0, 0, 255], 2),
        "centre is {:?}",
        image.get_pixel(120, 120)
    );
    // Nothing was written outside the prefix.
    let outside =
        reqwest::blocking::get(format!("{}/{BUCKET}/{}", moto.endpoint(), artifact.key)).unwrap();
    assert_eq!(outside.status(), 404);

    // The API reads artifacts back through the same store (GET /jobs/{id}/artifacts/{name}).
    let store = &kiln.kiln.runner.services.store;
    let bytes = block_on(store.get(&artifact.key)).unwrap();
    assert_eq!(bytes.len() as u64, artifact.bytes);
}

#[test]
fn without_a_public_base_the_artifact_url_is_the_s3_url() {
    let _serial = one_at_a_time();
    let moto = Moto::start();
    moto.create_public_bucket(BUCKET);
    let kiln = s3_kiln(&moto, "plain", |_| {});
    let outcome = kiln.p5(&red_circle(64), 64);
    assert!(
        outcome.succeeded(),
        "{:?}\n{:#?}",
        outcome.error,
        outcome.log
    );
    let artifact = &outcome.artifacts[0];
    assert_eq!(
        artifact.url,
        format!("s3://{BUCKET}/plain/{}/image.png", outcome.id)
    );
    let image = fetch_png(&format!(
        "{}/{BUCKET}/plain/{}",
        moto.endpoint(),
        artifact.key
    ));
    assert_eq!(image.dimensions(), (64, 64));
}

#[test]
fn cdn_verification_that_only_sees_404_fails_the_job_as_unavailable() {
    let _serial = one_at_a_time();
    let moto = Moto::start();
    moto.create_public_bucket(BUCKET);
    // The "CDN" serves another prefix, so every HEAD is a 404.
    let public = format!("{}/{BUCKET}/elsewhere", moto.endpoint());
    let kiln = s3_kiln(&moto, "renders", |config| {
        config.storage.public_base_url = Some(public.clone());
        config.storage.verify_public_url = true;
        config.storage.verify_attempts = 3;
        config.storage.verify_backoff_ms = 20;
    });

    let outcome = kiln.p5(&red_circle(64), 64);
    let message = failure(&outcome, ErrorKind::Unavailable);
    assert_eq!(outcome.attempts, 2, "an unavailable job is retried once");
    let url = format!("{public}/{}/image.png", outcome.id);
    assert!(
        message.contains(&format!(
            "public URL {url} did not answer 200 to 3 HEAD requests"
        )) && message.contains("last: HTTP 404")
            && message.contains("storage.public_base_url"),
        "{message}"
    );
    // The put itself went through: the object is in the store, just not at the public URL.
    let stored = format!(
        "{}/{BUCKET}/renders/{}/image.png",
        moto.endpoint(),
        outcome.id
    );
    assert_eq!(fetch_png(&stored).dimensions(), (64, 64));
}

#[test]
fn a_job_fails_as_unavailable_while_storage_is_down_and_the_next_renders_once_it_is_back() {
    let _serial = one_at_a_time();
    let mut moto = Moto::start();
    moto.create_public_bucket(BUCKET);
    let kiln = s3_kiln(&moto, "renders", |_| {});
    let first = kiln.p5(&red_circle(64), 64);
    assert!(first.succeeded(), "{:?}\n{:#?}", first.error, first.log);

    moto.stop();
    let started = Instant::now();
    let down = kiln.p5(&red_circle(64), 64);
    let took = started.elapsed();
    let message = failure(&down, ErrorKind::Unavailable);
    assert_eq!(down.attempts, 2, "an unavailable job is retried once");
    assert!(
        message.contains(&format!(
            "storing {}/image.png in s3://{BUCKET}/renders failed",
            down.id
        )) && message.contains("check that the store is up"),
        "{message}"
    );
    assert!(
        down.log.iter().any(|l| l.message.contains("retrying")),
        "{:#?}",
        down.log
    );
    assert!(
        took < Duration::from_secs(8),
        "failing against a down store took {took:?}"
    );

    // Storage is back (empty, as a fresh moto is): the same host renders the next job.
    let moto = Moto::start_on(moto.port());
    moto.create_public_bucket(BUCKET);
    let next = kiln.p5(&red_circle(64), 64);
    assert!(next.succeeded(), "{:?}\n{:#?}", next.error, next.log);
    assert_eq!(next.attempts, 1);
    let stored = format!(
        "{}/{BUCKET}/renders/{}",
        moto.endpoint(),
        next.artifacts[0].key
    );
    assert_eq!(fetch_png(&stored).dimensions(), (64, 64));
}

#[test]
fn a_p5_job_stores_its_png_in_azure_blob_storage_and_the_public_url_is_verified() {
    let _serial = one_at_a_time();
    let azurite = Azurite::start();
    azurite.create_public_container("renders");
    let public = format!("{}/renders/kiln", azurite.account_url());
    let options = azurite.options();
    let kiln = TestKiln::start_with(|config| {
        config.storage.url = Some("az://renders/kiln".into());
        config.storage.options = options;
        config.storage.public_base_url = Some(public.clone());
        config.storage.verify_public_url = true;
    });

    let outcome = kiln.p5(&red_circle(96), 96);
    assert!(
        outcome.succeeded(),
        "{:?}\n{:#?}",
        outcome.error,
        outcome.log
    );
    let artifact = &outcome.artifacts[0];
    assert_eq!(artifact.url, format!("{public}/{}/image.png", outcome.id));
    assert_eq!(fetch_png(&artifact.url).dimensions(), (96, 96));
    let bytes = block_on(kiln.kiln.runner.services.store.get(&artifact.key)).unwrap();
    assert_eq!(bytes.len() as u64, artifact.bytes);
}
