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

use leptos::server::codee::{Decoder, Encoder};
use serde::{Deserialize, Serialize};

use crate::{
    browse::{Listing, ObjectEntry},
    error::AppError,
    iam::Reach,
};

/// The codec of the folder page's listing resource.
pub struct RowsInPage;

type Loaded = Result<Listing, AppError>;

/// What the rows do not hold.
#[derive(Serialize, Deserialize)]
struct Head {
    connection: String,
    next: Option<String>,
    within: Option<Reach>,
    read_only: bool,
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
            read_only: false,
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
}
