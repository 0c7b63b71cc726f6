//! The browser's half of a walk request: XMLHttpRequest, whose progress events hand over the
//! answer's text so far, so each line is shown as soon as it arrives. Aborting the request ends
//! the walk on the server too (its stream is dropped with the connection).

use futures::{channel::mpsc, StreamExt};
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::XmlHttpRequest;

use super::Line;

/// Sends the walk request `url` and calls `on_line` with each line as it arrives. `started`
/// gets the request, for the page to abort. Ends with the request: `Err` with the server's
/// refusal (or the browser's), `Ok` otherwise (aborted included).
pub async fn read(
    url: &str,
    started: impl FnOnce(XmlHttpRequest),
    mut on_line: impl FnMut(Line),
) -> Result<(), String> {
    let broken = |_| "the browser refused the request".to_owned();
    let xhr = XmlHttpRequest::new().map_err(broken)?;
    xhr.open("GET", url).map_err(broken)?;
    // `Some`: more text arrived; `None`: the request ended.
    let (tick, mut ticks) = mpsc::unbounded::<Option<()>>();
    let on_progress = {
        let tick = tick.clone();
        Closure::<dyn FnMut()>::new(move || {
            let _ = tick.unbounded_send(Some(()));
        })
    };
    let on_end = Closure::<dyn FnMut()>::new(move || {
        let _ = tick.unbounded_send(None);
    });
    xhr.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    xhr.send().map_err(broken)?;
    started(xhr.clone());
    let mut read = 0;
    let mut ended = false;
    while !ended {
        ended = !matches!(ticks.next().await, Some(Some(())));
        let status = xhr.status().unwrap_or(0);
        if !(200..300).contains(&status) {
            continue;
        }
        let text = xhr.response_text().ok().flatten().unwrap_or_default();
        // Complete lines only: a line cut by the network is read at the next event.
        let Some(end) = text.rfind('\n').map(|i| i + 1).filter(|end| *end > read) else {
            continue;
        };
        for line in text[read..end].lines().filter(|l| !l.is_empty()) {
            match serde_json::from_str::<Line>(line) {
                Ok(line) => on_line(line),
                Err(err) => return Err(format!("the answer did not read: {err}")),
            }
        }
        read = end;
    }
    drop((on_progress, on_end));
    match xhr.status().unwrap_or(0) {
        200..=299 | 0 => Ok(()),
        _ => Err(xhr
            .response_text()
            .ok()
            .flatten()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| "the search failed".into())),
    }
}
