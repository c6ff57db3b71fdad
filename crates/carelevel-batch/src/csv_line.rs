//! The CSV dialect of batch input, one physical line at a time.
//!
//! A record is exactly one line: fields are separated by `,`; a field that starts
//! with `"` is quoted, ends at the next `"` that is not doubled (`""` is one `"`) and
//! must be followed by `,` or the end of the line. A quoted field may hold commas but
//! never a line break, since answers and ids never need one: a quote left open at the
//! end of its line, a `"` inside an unquoted field and a carriage return that does
//! not end the line each make that one line an error, and the next line is read as a
//! record of its own. This is what keeps one stray quote from swallowing (or merging)
//! every record up to the next quote, as multi-line RFC 4180 parsing would.

use memchr::memchr;

/// Why a line cannot be read as a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineProblem {
    /// Quoted field `field` (1-based) is still open at the end of the line.
    Unclosed {
        /// The field's number.
        field: usize,
    },
    /// A `"` inside unquoted field `field`, at 1-based byte `byte` of the line.
    QuoteInUnquoted {
        /// The field's number.
        field: usize,
        /// Where the quote is.
        byte: usize,
    },
    /// `found` (at 1-based byte `byte`) after the closing quote of field `field`.
    AfterClosingQuote {
        /// The field's number.
        field: usize,
        /// Where the unexpected byte is.
        byte: usize,
        /// The unexpected byte.
        found: u8,
    },
    /// A carriage return that does not end the line, at 1-based byte `byte`.
    BareCr {
        /// Where the carriage return is.
        byte: usize,
    },
    /// More fields than the limit.
    TooManyFields {
        /// The limit.
        max: usize,
    },
}

impl LineProblem {
    /// What is wrong, and (after `; `) what a line must look like instead.
    pub(crate) fn describe(&self) -> String {
        match *self {
            LineProblem::Unclosed { field } => {
                format!("field {field} opens a quote that is not closed on this line")
            }
            LineProblem::QuoteInUnquoted { field, byte } => format!(
                "field {field} has a `\"` inside an unquoted value (at byte {byte} of the \
                 line); a value holding a quote must be quoted whole, with the quote \
                 doubled (\"a\"\"b\")"
            ),
            LineProblem::AfterClosingQuote { field, byte, found } => {
                let found = if found.is_ascii_graphic() || found == b' ' {
                    format!("`{}`", char::from(found))
                } else {
                    format!("byte 0x{found:02X}")
                };
                format!(
                    "field {field}: after its closing quote comes {found} (at byte {byte} \
                     of the line) instead of a comma or the end of the line"
                )
            }
            LineProblem::BareCr { byte } => format!(
                "the line holds a carriage return (CR) that does not end it (at byte \
                 {byte} of the line); lines must end in LF or CRLF"
            ),
            LineProblem::TooManyFields { max } => {
                format!("the line has more than {max} fields")
            }
        }
    }
}

/// Split one line (without its line end) into fields. The unquoted and unescaped
/// bytes of every field are appended to `data`, and each field's end (relative to
/// where this record starts in `data`) to `ends`. On a problem, nothing is appended.
pub(crate) fn split(
    line: &[u8],
    data: &mut Vec<u8>,
    ends: &mut Vec<usize>,
    max_fields: usize,
) -> Result<(), LineProblem> {
    let data_start = data.len();
    let ends_start = ends.len();
    let result = split_fields(line, data, ends, data_start, max_fields);
    if result.is_err() {
        data.truncate(data_start);
        ends.truncate(ends_start);
    }
    result
}

fn split_fields(
    line: &[u8],
    data: &mut Vec<u8>,
    ends: &mut Vec<usize>,
    data_start: usize,
    max_fields: usize,
) -> Result<(), LineProblem> {
    if let Some(cr) = memchr(b'\r', line) {
        return Err(LineProblem::BareCr { byte: cr + 1 });
    }
    let mut pos = 0;
    let mut field = 0;
    loop {
        field += 1;
        if field > max_fields {
            return Err(LineProblem::TooManyFields { max: max_fields });
        }
        let rest = line.get(pos..).unwrap_or_default();
        if rest.first() == Some(&b'"') {
            // A quoted field: up to the first quote that is not doubled.
            let mut i = pos + 1;
            loop {
                let tail = line.get(i..).unwrap_or_default();
                let Some(q) = memchr(b'"', tail) else {
                    return Err(LineProblem::Unclosed { field });
                };
                data.extend_from_slice(tail.get(..q).unwrap_or_default());
                if tail.get(q + 1) == Some(&b'"') {
                    data.push(b'"');
                    i += q + 2;
                } else {
                    pos = i + q + 1;
                    break;
                }
            }
            ends.push(data.len() - data_start);
            match line.get(pos) {
                None => return Ok(()),
                Some(b',') => pos += 1,
                Some(&found) => {
                    return Err(LineProblem::AfterClosingQuote {
                        field,
                        byte: pos + 1,
                        found,
                    })
                }
            }
        } else {
            let end = memchr(b',', rest).unwrap_or(rest.len());
            let value = rest.get(..end).unwrap_or_default();
            if let Some(q) = memchr(b'"', value) {
                return Err(LineProblem::QuoteInUnquoted {
                    field,
                    byte: pos + q + 1,
                });
            }
            data.extend_from_slice(value);
            ends.push(data.len() - data_start);
            if end == rest.len() {
                return Ok(());
            }
            pos += end + 1;
        }
    }
}

/// Where a quoted field left open at the end of a line would have closed, had its
/// line break been read as part of the field (multi-line RFC 4180 CSV).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closing {
    /// On the line this many lines after the open one.
    After(u64),
    /// Nowhere: the input ends first.
    Never,
    /// Not within the bytes looked at (the rest of the input was not read).
    Beyond,
}

/// Scan `after` (the input after the line with the open quote and its line end) in
/// the quoted state. `complete` says whether `after` runs to the end of the input.
pub(crate) fn closing(after: &[u8], complete: bool) -> Closing {
    let mut lines = 0u64;
    let mut i = 0;
    while let Some(q) = memchr::memchr2(b'"', b'\n', after.get(i..).unwrap_or_default()) {
        let at = i + q;
        if after.get(at) == Some(&b'\n') {
            lines += 1;
            i = at + 1;
            continue;
        }
        match after.get(at + 1) {
            Some(b'"') => i = at + 2,
            Some(_) => return Closing::After(lines),
            None if complete => return Closing::After(lines),
            None => return Closing::Beyond,
        }
    }
    if complete {
        Closing::Never
    } else {
        Closing::Beyond
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

    use super::*;

    /// The fields of `line`, as text.
    fn fields(line: &str) -> Result<Vec<String>, LineProblem> {
        let (mut data, mut ends) = (b"junk".to_vec(), vec![7]);
        let result = split(line.as_bytes(), &mut data, &mut ends, 5);
        if result.is_err() {
            assert_eq!(
                (data.as_slice(), ends.as_slice()),
                (b"junk".as_slice(), [7].as_slice())
            );
        }
        result?;
        let mut start = 0;
        Ok(ends[1..]
            .iter()
            .map(|&end| {
                let f = String::from_utf8(data[4 + start..4 + end].to_vec()).unwrap();
                start = end;
                f
            })
            .collect())
    }

    #[test]
    fn fields_quoted_and_unquoted() {
        assert_eq!(fields("a,b").unwrap(), ["a", "b"]);
        assert_eq!(fields(",").unwrap(), ["", ""]);
        assert_eq!(fields("x").unwrap(), ["x"]);
        assert_eq!(fields("\"\",\"\"").unwrap(), ["", ""]);
        assert_eq!(fields("\"a,\"\"1\"\"\",b,").unwrap(), ["a,\"1\"", "b", ""]);
        assert_eq!(fields("\"\"\"\"").unwrap(), ["\""]);
        assert_eq!(fields(" a , b ").unwrap(), [" a ", " b "]);
        assert_eq!(fields("1,2,3,4,5").unwrap().len(), 5);
    }

    #[test]
    fn problems() {
        use LineProblem::*;
        assert_eq!(fields("\"a,b"), Err(Unclosed { field: 1 }));
        assert_eq!(fields("a,\"b\"\""), Err(Unclosed { field: 2 }));
        assert_eq!(fields("a\"b"), Err(QuoteInUnquoted { field: 1, byte: 2 }));
        assert_eq!(
            fields("x, \"b\""),
            Err(QuoteInUnquoted { field: 2, byte: 4 })
        );
        assert_eq!(
            fields("\"a\"b"),
            Err(AfterClosingQuote {
                field: 1,
                byte: 4,
                found: b'b'
            })
        );
        assert_eq!(fields("a,\"b\rc\""), Err(BareCr { byte: 5 }));
        assert_eq!(fields("1,2,3,4,5,6"), Err(TooManyFields { max: 5 }));
    }

    #[test]
    fn where_an_open_quote_would_close() {
        assert_eq!(closing(b"b\nc\",x\n", true), Closing::After(1));
        assert_eq!(closing(b"\",x\n", true), Closing::After(0));
        assert_eq!(closing(b"\"\"\n\"", true), Closing::After(1));
        assert_eq!(closing(b"\"\"\n\"", false), Closing::Beyond);
        assert_eq!(closing(b"\"\"\nx", true), Closing::Never);
        assert_eq!(closing(b"\"\"\nx", false), Closing::Beyond);
        assert_eq!(closing(b"", true), Closing::Never);
    }
}
