//! Script in a page of a test's own Chromium: evaluating an expression and waiting until one
//! holds. Shared by the modules that open what Kiln made in a browser (`bundle`, `dashboard`).

use chromiumoxide::Page;
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use kiln_test_support::block_on;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// `expression`'s value in `page` (promises awaited); panics, naming it, if it throws.
pub fn eval(page: &Page, expression: &str) -> Value {
    let params = EvaluateParams::builder()
        .expression(expression)
        .await_promise(true)
        .return_by_value(true)
        .build()
        .unwrap();
    let result = block_on(page.execute(params)).unwrap().result;
    if let Some(thrown) = &result.exception_details {
        panic!("{expression} threw: {thrown:?}");
    }
    result.result.value.clone().unwrap_or(Value::Null)
}

/// Waits until `expression` is true in `page`, failing with the page's text after `limit`.
pub fn wait_for(page: &Page, expression: &str, limit: Duration) {
    let start = Instant::now();
    while eval(page, &format!("!!({expression})")) != json!(true) {
        assert!(
            start.elapsed() < limit,
            "{expression} not true within {limit:?}; the page shows:\n{}",
            eval(page, "document.body ? document.body.innerText : ''")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
