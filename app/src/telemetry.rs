//! Log set-up: human-readable lines by default, one JSON object per line with
//! `LOG_FORMAT=json` (CloudWatch), filtered by `RUST_LOG`.
//!
//! A log line is one line whatever a caller sent: every control character a value carries
//! (a newline in a token's header, an escape sequence in a name) is written escaped, so no
//! caller can forge a line or drive an operator's terminal ([`EscapedStderr`]).

use std::io::{self, IsTerminal, Write};

use clap::ValueEnum;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    /// For people at a terminal.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Installs the global subscriber, writing to standard error, with colours only when standard
/// error is a terminal: a file or a log collector gets plain text. A second call does nothing.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let colours = std::io::stderr().is_terminal() && format == LogFormat::Text;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colours)
        .with_writer(EscapedStderr { colours });
    let _already_installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Standard error, written one formatted event at a time with its control characters escaped
/// ([`escape_controls`]). The formatter's own colour codes are kept when `colours` is set;
/// `tracing-subscriber` has already escaped the escape characters of the values then.
#[derive(Debug, Clone, Copy)]
pub struct EscapedStderr {
    colours: bool,
}

impl<'a> MakeWriter<'a> for EscapedStderr {
    type Writer = Escaped<io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        Escaped {
            inner: io::stderr(),
            keep_escape: self.colours,
        }
    }
}

/// A writer that escapes the control characters of what it is given (see [`escape_controls`]).
#[derive(Debug)]
pub struct Escaped<W> {
    inner: W,
    keep_escape: bool,
}

impl<W: Write> Write for Escaped<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner
            .write_all(&escape_controls(buf, self.keep_escape))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `event` (one formatted log event, ending with a newline) with every other control
/// character written as `\u` and four hex digits: C0 (newline, carriage return, tab, escape…), DEL and C1. The
/// escape character is kept when `keep_escape` is set (the formatter's colours). Borrowed when
/// there is nothing to escape, which is nearly always.
pub fn escape_controls(event: &[u8], keep_escape: bool) -> std::borrow::Cow<'_, [u8]> {
    let body = event.strip_suffix(b"\n").unwrap_or(event);
    // Nearly every line is printable ASCII: one pass over its bytes says so.
    let printable = |b: &u8| matches!(b, b' '..=b'~') || (keep_escape && *b == 0x1b);
    if body.iter().all(printable) {
        return std::borrow::Cow::Borrowed(event);
    }
    let text = String::from_utf8_lossy(body);
    let is_escaped = |c: char| {
        (c.is_control() && !(keep_escape && c == '\u{1b}'))
            // Bidirectional overrides and isolates reorder what a terminal shows.
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.contains(is_escaped) && matches!(text, std::borrow::Cow::Borrowed(_)) {
        return std::borrow::Cow::Borrowed(event);
    }
    let mut escaped = String::with_capacity(event.len() + 16);
    for c in text.chars() {
        if is_escaped(c) {
            // `\u001b`: a valid escape in a JSON string and readable in text alike.
            escaped.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            escaped.push(c);
        }
    }
    if body.len() < event.len() {
        escaped.push('\n');
    }
    std::borrow::Cow::Owned(escaped.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_without_controls_is_written_as_it_is() {
        let line = b"2026-12-06T00:00:00Z  INFO app: answered status=200\n";
        assert!(matches!(
            escape_controls(line, false),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn newlines_escapes_and_overrides_inside_a_line_are_escaped_and_the_last_newline_kept() {
        let forged =
            "refused reason=\u{1b}[2J\n2026-12-06T00:00:00Z ERROR app: forged\r\u{202e}x\n";
        let written = escape_controls(forged.as_bytes(), false);
        let written = std::str::from_utf8(&written).unwrap();
        assert_eq!(
            written,
            "refused reason=\\u001b[2J\\u000a2026-12-06T00:00:00Z ERROR app: forged\\u000d\\u202ex\n"
        );
        assert_eq!(written.lines().count(), 1);
    }

    #[test]
    fn colour_codes_are_kept_when_asked() {
        let coloured = "\u{1b}[32m INFO\u{1b}[0m app: tab\there\n";
        let written = escape_controls(coloured.as_bytes(), true);
        assert_eq!(
            std::str::from_utf8(&written).unwrap(),
            "\u{1b}[32m INFO\u{1b}[0m app: tab\\u0009here\n"
        );
    }
}
