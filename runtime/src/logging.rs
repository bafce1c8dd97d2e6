//! Logging for the functions: lines on stdout, which Lambda sends to the
//! function's log group.
//!
//! Honours Lambda's advanced logging controls: `AWS_LAMBDA_LOG_FORMAT=JSON`
//! gives one JSON object per line, and `AWS_LAMBDA_LOG_LEVEL` (or `RUST_LOG`,
//! a plain level name) the level; the default is `INFO`. Written without
//! `tracing-subscriber`'s env-filter so its regex engine stays out of the bundles.

use tracing::level_filters::LevelFilter;

/// The level named by `value` (`trace`, `debug`, `info`, `warn`, `error`, `off`), if any.
pub fn level(value: Option<&str>) -> LevelFilter {
    value
        .and_then(|v| v.trim().parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO)
}

/// Installs the process-wide logger. Call once, first thing in `main`.
pub fn init() {
    let level = level(
        std::env::var("AWS_LAMBDA_LOG_LEVEL")
            .or_else(|_| std::env::var("RUST_LOG"))
            .ok()
            .as_deref(),
    );
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .without_time()
        .with_ansi(false);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(level(Some("DEBUG")), LevelFilter::DEBUG);
        assert_eq!(level(Some("warn")), LevelFilter::WARN);
        assert_eq!(level(Some("nonsense")), LevelFilter::INFO);
        assert_eq!(level(None), LevelFilter::INFO);
    }
}
