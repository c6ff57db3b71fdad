//! `GET /metrics`: counters and latency histograms in the Prometheus text format
//! (`docs/serve.md`, "Metrics").
//!
//! Names: `carelevel_http_requests_total{route,status}`,
//! `carelevel_http_request_duration_seconds{route}` (histogram),
//! `carelevel_decisions_total{ruleset,level}`, `carelevel_errors_total{code}`,
//! `carelevel_reloads_total{result}`, and with a decision log
//! `carelevel_decision_log_backlog`, `carelevel_decision_log_records_total{result}`,
//! `carelevel_decision_log_groups_total{result}`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::decisions::LogMetrics;

/// Upper bounds of the latency histogram buckets, in seconds.
pub const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Count per bucket of `BUCKETS` (not cumulative).
    counts: [u64; BUCKETS.len()],
    /// Observations above the last bucket.
    over: u64,
    sum: f64,
    count: u64,
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    decisions: BTreeMap<(String, String), u64>,
    errors: BTreeMap<&'static str, u64>,
    reloads: BTreeMap<&'static str, u64>,
}

/// The service's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut inner)
    }

    /// One request answered: its route template (e.g. `/v1/rulesets/{id}/assess`),
    /// status and time taken.
    pub fn request(&self, route: &str, status: u16, took: Duration) {
        let seconds = took.as_secs_f64();
        self.with(|m| {
            *m.requests.entry((route.to_owned(), status)).or_default() += 1;
            let h = m.latency.entry(route.to_owned()).or_default();
            match BUCKETS.iter().position(|b| seconds <= *b) {
                Some(i) => {
                    if let Some(c) = h.counts.get_mut(i) {
                        *c += 1;
                    }
                }
                None => h.over += 1,
            }
            h.sum += seconds;
            h.count += 1;
        });
    }

    /// One recommendation served.
    pub fn decision(&self, ruleset: &str, level: &str) {
        self.with(|m| {
            *m.decisions
                .entry((ruleset.to_owned(), level.to_owned()))
                .or_default() += 1;
        });
    }

    /// One refusal with this error code.
    pub fn error(&self, code: &'static str) {
        self.with(|m| *m.errors.entry(code).or_default() += 1);
    }

    /// One reload: `ok` (every ruleset swapped) or `refused` (at least one kept its old version).
    pub fn reload(&self, result: &'static str) {
        self.with(|m| *m.reloads.entry(result).or_default() += 1);
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self, log: Option<LogMetrics>) -> String {
        self.with(|m| {
            let mut out = String::new();
            out.push_str("# HELP carelevel_http_requests_total Requests answered, by route template and status.\n# TYPE carelevel_http_requests_total counter\n");
            for ((route, status), n) in &m.requests {
                let _ = writeln!(
                    out,
                    "carelevel_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    label(route)
                );
            }
            out.push_str("# HELP carelevel_http_request_duration_seconds Time to answer, by route template.\n# TYPE carelevel_http_request_duration_seconds histogram\n");
            for (route, h) in &m.latency {
                let route = label(route);
                let mut cumulative = 0;
                for (bound, c) in BUCKETS.iter().zip(h.counts.iter()) {
                    cumulative += c;
                    let _ = writeln!(
                        out,
                        "carelevel_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(
                    out,
                    "carelevel_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    cumulative + h.over
                );
                let _ = writeln!(
                    out,
                    "carelevel_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "carelevel_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
            out.push_str("# HELP carelevel_decisions_total Recommendations served, by ruleset and level.\n# TYPE carelevel_decisions_total counter\n");
            for ((ruleset, level), n) in &m.decisions {
                let _ = writeln!(
                    out,
                    "carelevel_decisions_total{{ruleset=\"{}\",level=\"{}\"}} {n}",
                    label(ruleset),
                    label(level)
                );
            }
            out.push_str("# HELP carelevel_errors_total Refused requests, by error code.\n# TYPE carelevel_errors_total counter\n");
            for (code, n) in &m.errors {
                let _ = writeln!(out, "carelevel_errors_total{{code=\"{code}\"}} {n}");
            }
            out.push_str("# HELP carelevel_reloads_total Ruleset reloads, by result.\n# TYPE carelevel_reloads_total counter\n");
            for (result, n) in &m.reloads {
                let _ = writeln!(out, "carelevel_reloads_total{{result=\"{result}\"}} {n}");
            }
            if let Some(log) = log {
                let st = log.stats;
                let _ = write!(
                    out,
                    "# HELP carelevel_decision_log_backlog Decision log records accepted and not yet durable.\n# TYPE carelevel_decision_log_backlog gauge\ncarelevel_decision_log_backlog {}\n",
                    log.backlog
                );
                out.push_str("# HELP carelevel_decision_log_records_total Decision log records, by result (written: durable; failed: I/O or full disk, the response was 503; refused: not loggable; mask_failed: masking failed, the response was 503).\n# TYPE carelevel_decision_log_records_total counter\n");
                for (result, n) in [
                    ("written", st.written),
                    ("failed", st.failed),
                    ("refused", st.refused),
                    ("mask_failed", st.mask_failures),
                ] {
                    let _ = writeln!(
                        out,
                        "carelevel_decision_log_records_total{{result=\"{result}\"}} {n}"
                    );
                }
                let _ = write!(
                    out,
                    "# HELP carelevel_decision_log_groups_total Group commits of the decision log, by result.\n# TYPE carelevel_decision_log_groups_total counter\ncarelevel_decision_log_groups_total{{result=\"ok\"}} {}\ncarelevel_decision_log_groups_total{{result=\"failed\"}} {}\n",
                    st.groups, st.failed_groups
                );
            }
            out
        })
    }
}

/// A label value escaped as the text format requires (`\`, `"` and newline).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_labels_escaped() {
        let m = Metrics::default();
        m.request("/a", 200, Duration::from_micros(300));
        m.request("/a", 200, Duration::from_millis(3));
        m.request("/a", 500, Duration::from_secs(20));
        m.decision("d\"x", "iop");
        let text = m.render(None);
        assert!(text.contains("carelevel_http_requests_total{route=\"/a\",status=\"200\"} 2\n"));
        assert!(text.contains("{route=\"/a\",le=\"0.0005\"} 1\n"), "{text}");
        assert!(text.contains("{route=\"/a\",le=\"0.005\"} 2\n"), "{text}");
        assert!(text.contains("{route=\"/a\",le=\"10\"} 2\n"), "{text}");
        assert!(text.contains("{route=\"/a\",le=\"+Inf\"} 3\n"), "{text}");
        assert!(text.contains("carelevel_http_request_duration_seconds_count{route=\"/a\"} 3\n"));
        assert!(
            text.contains("ruleset=\"d\\\"x\",level=\"iop\"} 1\n"),
            "{text}"
        );
        assert!(
            !text.contains("decision_log"),
            "no log, no log metrics: {text}"
        );
        let log = LogMetrics {
            stats: carelevel_decision_log::LogStats {
                written: 7,
                mask_failures: 2,
                groups: 3,
                ..Default::default()
            },
            backlog: 4,
        };
        let text = m.render(Some(log));
        assert!(
            text.contains("carelevel_decision_log_backlog 4\n"),
            "{text}"
        );
        assert!(text.contains("carelevel_decision_log_records_total{result=\"written\"} 7\n"));
        assert!(text.contains("carelevel_decision_log_records_total{result=\"mask_failed\"} 2\n"));
        assert!(text.contains("carelevel_decision_log_groups_total{result=\"ok\"} 3\n"));
    }
}
