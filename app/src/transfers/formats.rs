//! Text previews read as what they are: CSV and TSV as a table (the first row as its header when
//! it looks like one), JSON pretty-printed and foldable, Markdown rendered and source code
//! highlighted (`rich`). Tables and JSON are text nodes; Markdown's raw HTML is shown as text: a
//! preview never renders the object's own markup, and never runs it.

use leptos::prelude::*;
use serde_json::Value;

/// Rows of a delimited file the preview shows at most.
pub const TABLE_ROWS: usize = 500;

/// How a text preview is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Plain,
    Delimited(char),
    Json,
    /// Rendered by markdown-it, with raw HTML shown as text and images as their description.
    Markdown,
    /// Source code, highlighted by highlight.js in this language (its name there).
    Code(&'static str),
}

impl Format {
    /// From the content type, then the name's extension.
    pub fn of(content_type: &str, key: &str) -> Format {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_lowercase();
        let extension = key
            .rsplit_once('.')
            .map(|(_, e)| e.to_lowercase())
            .unwrap_or_default();
        match (essence.as_str(), extension.as_str()) {
            ("text/csv", _) | (_, "csv") => Format::Delimited(','),
            ("text/tab-separated-values", _) | (_, "tsv") => Format::Delimited('\t'),
            (t, _) if t == "application/json" || t.ends_with("+json") => Format::Json,
            (_, "json") => Format::Json,
            ("text/markdown", _) | (_, "md" | "markdown") => Format::Markdown,
            (_, extension) => language(extension).map_or(Format::Plain, Format::Code),
        }
    }
}

/// The highlight.js language for a file name's extension (among those its common build has).
fn language(extension: &str) -> Option<&'static str> {
    Some(match extension {
        "rs" => "rust",
        "py" => "python",
        "js" | "mjs" | "cjs" => "javascript",
        "ts" | "tsx" => "typescript",
        "sh" | "bash" => "bash",
        "sql" => "sql",
        "html" | "htm" | "xml" | "svg" => "xml",
        "css" => "css",
        "scss" => "scss",
        "yaml" | "yml" => "yaml",
        "toml" | "ini" | "cfg" => "ini",
        "go" => "go",
        "java" => "java",
        "kt" | "kts" => "kotlin",
        "c" | "h" => "c",
        "cc" | "cpp" | "hpp" => "cpp",
        "cs" => "csharp",
        "rb" => "ruby",
        "php" => "php",
        "swift" => "swift",
        "lua" => "lua",
        "r" => "r",
        "pl" => "perl",
        "diff" | "patch" => "diff",
        "graphql" | "gql" => "graphql",
        _ => return None,
    })
}

/// Rows of delimited text (RFC 4180: quoted fields may hold the delimiter, newlines and doubled
/// quotes). `complete`: the text is the whole object, so its last line is a whole row; else a
/// last line cut by the preview's end is left out. At most `most` rows.
pub fn rows(text: &str, delimiter: char, complete: bool, most: usize) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field) = (Vec::new(), String::new());
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, c) if c == delimiter => row.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                if rows.len() == most {
                    return rows;
                }
            }
            (false, c) => field.push(c),
        }
    }
    if complete && (!field.is_empty() || !row.is_empty()) {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// Whether the first row is a header: none of its cells is empty or a number, while some column
/// below it holds numbers (or, with every cell text, its cells differ from the second row's).
pub fn has_header(rows: &[Vec<String>]) -> bool {
    let Some((first, rest)) = rows.split_first() else {
        return false;
    };
    let number = |s: &str| s.trim().parse::<f64>().is_ok();
    if first.iter().any(|c| c.trim().is_empty() || number(c)) {
        return false;
    }
    let numeric_below = (0..first.len()).any(|i| {
        rest.iter()
            .take(20)
            .any(|r| r.get(i).is_some_and(|c| number(c)))
    });
    numeric_below || rest.first().is_some_and(|second| second != first)
}

/// The first rows as a table.
#[component]
pub fn TablePreview(rows: Vec<Vec<String>>, cut: bool) -> impl IntoView {
    let header = has_header(&rows);
    let shown = rows.len();
    let mut rows = rows.into_iter();
    let head = header.then(|| rows.next()).flatten();
    view! {
        <div class="preview-table">
            <table class="grid">
                {head.map(|cells| view! {
                    <thead><tr>{cells.into_iter().map(|c| view! { <th scope="col">{c}</th> }).collect_view()}</tr></thead>
                })}
                <tbody>
                    {rows.map(|cells| view! {
                        <tr>{cells.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {(cut || shown == TABLE_ROWS).then(|| view! {
            <p class="muted">{format!("The first {shown} rows.")}</p>
        })}
    }
}

/// A JSON value, pretty and foldable: objects and arrays are `<details>`, open to two levels.
#[component]
pub fn JsonPreview(value: Value) -> impl IntoView {
    view! { <div class="preview-json">{json_view(value, None, 0)}</div> }
}

fn json_view(value: Value, name: Option<String>, depth: usize) -> AnyView {
    let label = name.map(|n| view! { <span class="json-key">{n}</span>": " });
    match value {
        Value::Object(map) => {
            let summary = format!("{{…}} {} keys", map.len());
            let children = map
                .into_iter()
                .map(|(k, v)| json_view(v, Some(Value::String(k).to_string()), depth + 1))
                .collect_view();
            view! {
                <details open=depth < 2><summary>{label}{summary}</summary><div class="json-children">{children}</div></details>
            }
            .into_any()
        }
        Value::Array(items) => {
            let summary = format!("[…] {} items", items.len());
            let children = items
                .into_iter()
                .enumerate()
                .map(|(i, v)| json_view(v, Some(i.to_string()), depth + 1))
                .collect_view();
            view! {
                <details open=depth < 2><summary>{label}{summary}</summary><div class="json-children">{children}</div></details>
            }
            .into_any()
        }
        scalar => view! { <div class="json-line">{label}<code>{scalar.to_string()}</code></div> }
            .into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    #[test]
    fn delimited_text_reads_as_rfc_4180_says() {
        let text = "name,note,total\r\n\"Smith, J\",\"said \"\"hi\"\"\nthen left\",10\nplain,,3\n";
        assert_eq!(
            rows(text, ',', true, 100),
            owned(&[
                &["name", "note", "total"],
                &["Smith, J", "said \"hi\"\nthen left", "10"],
                &["plain", "", "3"],
            ])
        );
        // A preview cut mid-row leaves the cut row out; a whole object keeps its last line.
        assert_eq!(rows("a,b\nc,d\ne,f", ',', false, 100).len(), 2);
        assert_eq!(rows("a,b\nc,d\ne,f", ',', true, 100).len(), 3);
        assert_eq!(
            rows("a\tb\n1\t2\n", '\t', true, 100),
            owned(&[&["a", "b"], &["1", "2"]])
        );
        assert_eq!(rows("1\n2\n3\n4\n", ',', true, 2).len(), 2);
    }

    #[test]
    fn a_header_is_text_above_numbers() {
        assert!(has_header(&owned(&[&["quarter", "total"], &["q1", "10"]])));
        assert!(!has_header(&owned(&[&["1", "2"], &["3", "4"]])));
        assert!(!has_header(&owned(&[&["a", ""], &["b", "1"]])));
        assert!(!has_header(&owned(&[&["x", "y"], &["x", "y"]])));
    }

    #[test]
    fn formats_follow_the_type_then_the_extension() {
        assert_eq!(
            Format::of("text/csv; charset=utf-8", "a"),
            Format::Delimited(',')
        );
        assert_eq!(Format::of("", "data/x.TSV"), Format::Delimited('\t'));
        assert_eq!(Format::of("application/ld+json", "a"), Format::Json);
        assert_eq!(Format::of("binary/octet-stream", "a.json"), Format::Json);
        assert_eq!(Format::of("text/plain", "notes.md"), Format::Markdown);
        assert_eq!(
            Format::of("text/x-rust", "src/main.RS"),
            Format::Code("rust")
        );
        assert_eq!(Format::of("text/plain", "notes.txt"), Format::Plain);
    }
}
