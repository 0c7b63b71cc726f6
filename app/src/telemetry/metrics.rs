//! Process-wide counters and latency histograms, rendered in Prometheus's text format. Each
//! instance reports its own; Prometheus adds them up. Labels are fixed names (routes as the
//! router declares them, SDK operation names, error codes), never user input.

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{Mutex, OnceLock},
    time::Duration,
};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (count, bound) in self.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

#[derive(Default, Clone)]
struct Registry {
    /// (route, method, status class) → latency
    requests: BTreeMap<(String, String, &'static str), Histogram>,
    /// outcome ("ok" or the classified cause) → count
    assumptions: BTreeMap<String, u64>,
    /// SDK operation → latency
    s3_calls: BTreeMap<String, Histogram>,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Mutex::default)
}

fn with(change: impl FnOnce(&mut Registry)) {
    if let Ok(mut registry) = registry().lock() {
        change(&mut registry);
    }
}

/// One HTTP request answered.
/// An HTTP method as a label: one of the methods Crossview answers, or `other`, so that no
/// client can grow the metrics (or a log field) by inventing methods.
pub fn method_label(method: &http::Method) -> &'static str {
    use http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

pub fn request(route: &str, method: &'static str, status: u16, took: Duration) {
    let class = match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    with(|r| {
        r.requests
            .entry((route.to_owned(), method.to_owned(), class))
            .or_default()
            .observe(took.as_secs_f64())
    });
}

/// One AssumeRole: `outcome` is "ok" or the classified cause of its failure.
pub fn assumption(outcome: &str) {
    with(|r| *r.assumptions.entry(outcome.to_owned()).or_default() += 1);
}

/// One S3 operation, retries included.
pub fn s3_call(operation: &str, took: Duration) {
    with(|r| {
        r.s3_calls
            .entry(operation.to_owned())
            .or_default()
            .observe(took.as_secs_f64())
    });
}

/// The database pool as the scrape finds it.
pub struct PoolUse {
    pub size: u32,
    pub idle: usize,
    pub max: u32,
}

/// Everything, in Prometheus's text exposition format.
pub fn render(pool: PoolUse) -> String {
    // A copy taken under the lock, so that rendering holds none.
    let registry = registry().lock().map(|r| r.clone()).unwrap_or_default();
    let mut out = String::new();
    histograms(
        &mut out,
        "crossview_http_request_duration_seconds",
        "Time to answer an HTTP request, by route, method and status class.",
        registry.requests.iter().map(|((route, method, class), h)| {
            (
                format!(
                    "route=\"{}\",method=\"{}\",status=\"{class}\"",
                    quote(route),
                    quote(method)
                ),
                h,
            )
        }),
    );
    let _ = writeln!(out, "# HELP crossview_assume_role_total AssumeRole calls, by outcome (ok or the classified cause).");
    let _ = writeln!(out, "# TYPE crossview_assume_role_total counter");
    for (outcome, n) in &registry.assumptions {
        let _ = writeln!(
            out,
            "crossview_assume_role_total{{outcome=\"{}\"}} {n}",
            quote(outcome)
        );
    }
    histograms(
        &mut out,
        "crossview_s3_call_duration_seconds",
        "Time of an S3 operation (retries included), by operation.",
        registry
            .s3_calls
            .iter()
            .map(|(op, h)| (format!("operation=\"{}\"", quote(op)), h)),
    );
    let _ = writeln!(out, "# HELP crossview_db_pool_connections Postgres connections of this instance's pool, by state.");
    let _ = writeln!(out, "# TYPE crossview_db_pool_connections gauge");
    let in_use = (pool.size as usize).saturating_sub(pool.idle);
    let _ = writeln!(
        out,
        "crossview_db_pool_connections{{state=\"in_use\"}} {in_use}"
    );
    let _ = writeln!(
        out,
        "crossview_db_pool_connections{{state=\"idle\"}} {}",
        pool.idle
    );
    let _ = writeln!(
        out,
        "# HELP crossview_db_pool_max_connections The pool's limit."
    );
    let _ = writeln!(out, "# TYPE crossview_db_pool_max_connections gauge");
    let _ = writeln!(out, "crossview_db_pool_max_connections {}", pool.max);
    out
}

fn histograms<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    series: impl Iterator<Item = (String, &'a Histogram)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} histogram");
    for (labels, h) in series {
        for (count, bound) in h.counts.iter().zip(BUCKETS) {
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
    }
}

/// A label value as Prometheus reads it: backslash, quote and newline escaped.
fn quote(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut h = Histogram::default();
        for seconds in [0.0005, 0.003, 0.003, 20.0] {
            h.observe(seconds);
        }
        assert_eq!(h.counts[0], 1, "≤ 1 ms");
        assert_eq!(h.counts[2], 3, "≤ 5 ms");
        assert_eq!(h.counts[BUCKETS.len() - 1], 3, "≤ 10 s: not the 20 s one");
        assert_eq!(h.count, 4);
    }

    #[test]
    fn label_values_cannot_break_the_format() {
        assert_eq!(quote("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
