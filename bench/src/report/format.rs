//! How numbers and tables are written in the report.

use std::time::Duration;

use comfy_table::presets::ASCII_MARKDOWN;
use comfy_table::Table;

use crate::stats::Spread;

/// A Markdown table (GitHub's pipe tables, columns padded to line up in plain text too).
pub fn markdown_table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut table = Table::new();
    table
        .load_preset(ASCII_MARKDOWN)
        .set_header(header.to_vec());
    for row in rows {
        table.add_row(row);
    }
    table.to_string()
}

/// A target's verdict, in bold.
pub fn verdict(met: bool) -> &'static str {
    match met {
        true => "**met**",
        false => "**not met**",
    }
}

/// Milliseconds: two decimals below 10 ms, one above.
pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    match ms {
        _ if ms < 10.0 => format!("{ms:.2}"),
        _ => format!("{ms:.1}"),
    }
}

/// Rounded to a whole number, thousands separated by commas.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A ratio as a factor (`2.33×`), or `n/a`.
pub fn times(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".into(), |v| format!("{v:.2}×"))
}

/// A plain ratio (`0.99`), or `n/a`.
pub fn plain(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".into(), |v| format!("{v:.2}"))
}

/// `show(value)`, or `n/a`.
pub fn or_na<T>(value: Option<T>, show: impl Fn(T) -> String) -> String {
    value.map_or_else(|| "n/a".into(), show)
}

/// Per-round ratios as `median (min–max)`, each with `suffix` (`×` or nothing).
pub fn spread(value: Option<Spread>, suffix: &str) -> String {
    or_na(value, |s| {
        format!("{:.2}{suffix} ({:.2}–{:.2})", s.median, s.min, s.max)
    })
}

/// Bytes as decimal megabytes, one decimal.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1e6)
}

/// Durations in milliseconds, comma-separated.
pub fn list(samples: &[Duration]) -> String {
    samples
        .iter()
        .map(|d| ms(*d))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1234.6), "1,235");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }

    #[test]
    fn milliseconds_keep_two_decimals_below_ten() {
        assert_eq!(ms(Duration::from_micros(1234)), "1.23");
        assert_eq!(ms(Duration::from_micros(41_260)), "41.3");
    }

    #[test]
    fn spreads_show_the_median_then_the_range() {
        let value = Spread::of(&[0.97, 1.04, 0.99]);
        assert_eq!(spread(value, ""), "0.99 (0.97–1.04)");
        assert_eq!(spread(value, "×"), "0.99× (0.97–1.04)");
        assert_eq!(spread(None, "×"), "n/a");
    }

    #[test]
    fn tables_are_markdown_pipe_tables() {
        let table = markdown_table(
            &["metric", "app"],
            vec![vec!["throughput".into(), "4,787".into()]],
        );
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(lines.iter().all(|l| l.starts_with('|') && l.ends_with('|')));
        assert!(lines[0].contains("metric") && lines[2].contains("4,787"));
        assert!(
            lines[1].chars().all(|c| matches!(c, '|' | '-' | ':')),
            "{table}"
        );
    }
}
