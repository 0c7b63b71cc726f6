//! A folder page's listing reaches the browser once: as the rows of its table.
//!
//! A resource rendered on the server is also serialized into the page, so that the browser can
//! hydrate without fetching it again. For a 1000-key folder that is every key a second time, as
//! JSON in a JS string (and on the server a second encoding of it, then a `Debug` escape of
//! that). Here the page carries only the listing's head (the connection's name, the next page's
//! token, the location) and the browser reads the rows back from the table the server rendered,
//! which holds every field exactly: `data-key` (percent-encoded, so that no key is changed by
//! the HTML parser's normalising of attribute values), `<data value>` for the size and
//! `<time datetime>` for the date. Later pages come from the `list_objects` server function as
//! before; this is only the first render's hand-over.
//!
//! The rows are one string of HTML ([`html`]), on the server and in the browser alike: a page
//! move then draws 1,000 rows with one parse instead of some 20,000 calls from wasm into the
//! DOM, and hydration leaves them as they are. Every name, key and class S3 returned goes in
//! escaped, as text or as a quoted attribute, by a maintained escaper.

use std::fmt::Write;

use html_escape::{encode_double_quoted_attribute as attribute, encode_text as text};
use leptos::server::codee::{Decoder, Encoder};
use serde::{Deserialize, Serialize};

use super::nav::Place;
use crate::{
    browse::{Listing, ObjectEntry, ReadOnly},
    error::AppError,
    format::{human_size, minutes},
    iam::Reach,
    location::{folder_href, name_in, object_href},
    url::encode_component,
};

/// The listing's rows, folders first, as the table's body: a checkbox named after the entry
/// (`Select <name>`), its link, size, date and storage class.
pub(super) fn html(place: &Place, folders: &[String], objects: &[ObjectEntry]) -> String {
    let mut out = String::with_capacity((folders.len() + objects.len()) * 480);
    for folder in folders {
        let name = name_in(folder, &place.prefix).trim_end_matches('/');
        let href = folder_href(place.connection, &place.bucket, folder);
        let _ = write!(
            out,
            r#"<tr class="folder" data-key="{key}"><td class="pick"><input type="checkbox" aria-label="Select {name_attr}/"></td><td class="name"><a class="entry folder" href="{href}" title="{name_attr}/"><span class="icon-folder" aria-hidden="true"></span>{name_text}/</a></td><td data-label="Size">—</td><td></td><td></td></tr>"#,
            key = encode_component(folder),
            name_attr = attribute(name),
            href = attribute(&href),
            name_text = text(name),
        );
    }
    for o in objects {
        let name = match name_in(&o.key, &place.prefix) {
            "" => "(object named like its folder)",
            name => name,
        };
        let href = object_href(place.connection, &place.bucket, &o.key);
        let _ = write!(
            out,
            r#"<tr class="object" data-key="{key}"><td class="pick"><input type="checkbox" aria-label="Select {name_attr}"></td><td class="name"><a class="entry object" href="{href}" title="{name_attr}">{name_text}</a></td><td class="size" title="{size} bytes"><data value="{size}">{human}</data></td><td class="date">"#,
            key = encode_component(&o.key),
            name_attr = attribute(name),
            href = attribute(&href),
            name_text = text(name),
            size = o.size,
            human = human_size(o.size.unsigned_abs()),
        );
        if let Some(at) = &o.last_modified {
            let _ = write!(
                out,
                r#"<time datetime="{}">{}</time>"#,
                attribute(at),
                text(&minutes(at))
            );
        }
        let class = o.storage_class.as_deref().unwrap_or("STANDARD");
        let _ = write!(out, r#"</td><td class="class">{}</td></tr>"#, text(class));
    }
    out
}

/// The codec of the folder page's listing resource.
pub struct RowsInPage;

type Loaded = Result<Listing, AppError>;

/// What the rows do not hold.
#[derive(Serialize, Deserialize)]
struct Head {
    connection: String,
    next: Option<String>,
    within: Option<Reach>,
    read_only: Option<ReadOnly>,
}

impl Encoder<Loaded> for RowsInPage {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(loaded: &Loaded) -> Result<String, Self::Error> {
        let head = loaded.as_ref().map(|listing| Head {
            connection: listing.connection.clone(),
            next: listing.next.clone(),
            within: listing.within.clone(),
            read_only: listing.read_only,
        });
        serde_json::to_string(&head)
    }
}

impl Decoder<Loaded> for RowsInPage {
    type Error = String;
    type Encoded = str;

    fn decode(json: &str) -> Result<Loaded, Self::Error> {
        let head: Result<Head, AppError> = serde_json::from_str(json).map_err(|e| e.to_string())?;
        match head {
            Err(error) => Ok(Err(error)),
            Ok(head) => {
                let (folders, objects) = rows()?;
                Ok(Ok(Listing {
                    connection: head.connection,
                    folders,
                    objects,
                    next: head.next,
                    within: head.within,
                    read_only: head.read_only,
                }))
            }
        }
    }
}

/// The folders' prefixes and the objects, as the server rendered them (in the page's order:
/// [`super::folder`] sorts by a total order, so the order they come in does not matter).
#[cfg(feature = "hydrate")]
fn rows() -> Result<(Vec<String>, Vec<ObjectEntry>), String> {
    use wasm_bindgen::JsCast;
    use web_sys::Element;

    let rows = leptos::prelude::document()
        .query_selector_all("table.listing tr[data-key]")
        .map_err(|_| "the listing's rows cannot be read".to_owned())?;
    let (mut folders, mut objects) = (Vec::new(), Vec::new());
    for row in (0..rows.length()).filter_map(|i| rows.item(i)) {
        let row: Element = row.unchecked_into();
        let key = crate::url::decode(&row.get_attribute("data-key").unwrap_or_default());
        if row.class_name() == "folder" {
            folders.push(key);
            continue;
        }
        let inside = |selector: &str, attribute: &str| {
            row.query_selector(selector)
                .ok()
                .flatten()
                .and_then(|e| e.get_attribute(attribute))
        };
        objects.push(ObjectEntry {
            key,
            size: inside("data", "value")
                .and_then(|v| v.parse().ok())
                .ok_or("a row without its size")?,
            last_modified: inside("time", "datetime"),
            storage_class: row.last_element_child().and_then(|e| e.text_content()),
        });
    }
    Ok((folders, objects))
}

/// On the server there is no page to read: the listing is always fetched there.
#[cfg(not(feature = "hydrate"))]
fn rows() -> Result<(Vec<String>, Vec<ObjectEntry>), String> {
    Err("the rows are read back only in the browser".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_carries_the_head_and_not_a_single_key() {
        let listing = Listing {
            connection: "Prod \"logs\"".into(),
            folders: vec!["reports/2026/".into()],
            objects: vec![ObjectEntry {
                key: "reports/secret-plan.txt".into(),
                size: 12,
                last_modified: Some("2026-12-04T10:00:00Z".into()),
                storage_class: None,
            }],
            next: Some("token/+=".into()),
            within: None,
            read_only: None,
        };
        let json = RowsInPage::encode(&Ok(listing)).unwrap();
        assert!(
            !json.contains("secret-plan") && !json.contains("2026/"),
            "{json}"
        );
        let head: Result<Head, AppError> = serde_json::from_str(&json).unwrap();
        let head = head.unwrap();
        assert_eq!(head.connection, "Prod \"logs\"");
        assert_eq!(head.next.as_deref(), Some("token/+="));

        // An error travels whole, and reading it back needs no page.
        let json = RowsInPage::encode(&Err(AppError::NotFound)).unwrap();
        assert_eq!(RowsInPage::decode(&json), Ok(Err(AppError::NotFound)));
        // A listing does need the page, which the server has not.
        assert!(
            RowsInPage::decode(r#"{"Ok":{"connection":"c","next":null,"within":null}}"#).is_err()
        );
    }

    /// Whatever S3 returns is text in the rows, never markup: a name that looks like HTML, a
    /// quote that would end an attribute, an ampersand.
    #[test]
    fn hostile_names_stay_text() {
        let place = Place {
            connection: 7,
            bucket: "b".into(),
            prefix: "in/".into(),
            filter: String::new(),
            sort: super::super::nav::Sort::Name,
            descending: false,
            tokens: Vec::new(),
            object: None,
            per: 100,
        };
        let hostile = r#"<script>alert(1)</script> "q" & 'a'"#;
        let objects = [ObjectEntry {
            key: format!("in/{hostile}"),
            size: 2048,
            last_modified: Some("2026-12-04T10:00:00Z".into()),
            storage_class: Some("<b>GLACIER</b>".into()),
        }];
        let html = html(&place, &[format!("in/{hostile}/")], &objects);
        assert!(!html.contains("<script") && !html.contains("<b>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(
            !html.contains(r#"" "q""#),
            "a quote ends no attribute: {html}"
        );
        assert!(
            html.contains(r#"<data value="2048">2.0 KiB</data>"#),
            "{html}"
        );
        assert!(html.contains(r#"<time datetime="2026-12-04T10:00:00Z">2026-12-04 10:00</time>"#));
        assert_eq!(html.matches("<tr ").count(), 2);
    }
}
