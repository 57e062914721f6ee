//! The Prometheus text format, read by a parser rather than by string matching, so that a
//! test asserts on series and labels, never on how a line happens to be laid out.
//!
//! ```
//! use testkit::prometheus::Scrape;
//!
//! let scrape = Scrape::parse(
//!     "# TYPE http_requests_total counter\n\n\
//!      http_requests_total{route=\"/branches/{id}\",status=\"2xx\",roles=\"main,masteradmin\"} 3\n",
//! );
//! assert_eq!(scrape.value("http_requests_total", &[("status", "2xx")]), Some(3.0));
//! assert_eq!(scrape.value("http_requests_total", &[("roles", "main,masteradmin")]), Some(3.0));
//! assert_eq!(scrape.value("http_requests_total", &[("status", "5xx")]), None);
//! ```

/// One series of a scrape: its name, its labels and its value. A summary's `_sum` and
/// `_count` and a histogram's `_bucket` are series of their own.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The series name, with any `_count`, `_sum` or `_bucket` suffix.
    pub name: String,
    /// Label names and values, unescaped, in the order written.
    pub labels: Vec<(String, String)>,
    /// The sample's value.
    pub value: f64,
}

/// Every series of one scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct Scrape {
    series: Vec<Series>,
}

impl Scrape {
    /// Reads a whole exposition.
    ///
    /// # Panics
    ///
    /// When `text` is not the Prometheus text format: the exporter under test wrote something
    /// a scraper would refuse.
    pub fn parse(text: &str) -> Scrape {
        // The format allows empty lines (the exporter writes one between families); the
        // parser does not, and they carry nothing.
        let lines: String = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .flat_map(|line| [line, "\n"])
            .collect();
        let (_, families) = nom_openmetrics::parser::prometheus(&lines).unwrap_or_else(|e| {
            let shown: String = format!("{e:?}").chars().take(500).collect();
            panic!("not the Prometheus text format: {shown}")
        });
        let series = families
            .iter()
            .flat_map(|family| &family.samples)
            .map(|sample| Series {
                name: sample.name().to_owned(),
                labels: sample
                    .labels()
                    .iter()
                    .map(|label| (label.name.to_owned(), label.value.clone()))
                    .collect(),
                value: sample.number(),
            })
            .collect();
        Scrape { series }
    }

    /// Every series read.
    pub fn series(&self) -> &[Series] {
        &self.series
    }

    /// The value of the first series `name` whose labels include every pair of `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.series
            .iter()
            .find(|series| {
                series.name == name
                    && labels.iter().all(|(key, value)| {
                        series.labels.iter().any(|(k, v)| k == key && v == value)
                    })
            })
            .map(|series| series.value)
    }

    /// Every label value of every series.
    pub fn label_values(&self) -> impl Iterator<Item = &str> {
        self.series
            .iter()
            .flat_map(|series| series.labels.iter().map(|(_, value)| value.as_str()))
    }
}
