//! The browser's requests straight to S3 on presigned URLs. XMLHttpRequest, not fetch: only it
//! reports upload progress.

use std::{cell::RefCell, rc::Rc};

use futures::{
    channel::{mpsc, oneshot},
    future::{select, Either},
    StreamExt,
};
use leptos::prelude::*;
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{Blob, ProgressEvent, XmlHttpRequest};

/// Why a transfer did not complete.
#[derive(Debug)]
pub enum Failure {
    Cancelled,
    /// No HTTP answer at all: the network, or a bucket whose CORS refuses this origin.
    Blocked,
    Other(String),
}

impl From<crate::error::AppError> for Failure {
    fn from(err: crate::error::AppError) -> Self {
        Failure::Other(err.to_string())
    }
}

/// Sends one request and waits for its end, reporting bytes sent (uploads) or received
/// (requests without a body) as they go. Setting
/// `cancel` aborts it at its next progress event. Returns the finished request (2xx only).
pub async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&Blob>,
    report: &dyn Fn(f64),
    cancel: RwSignal<bool>,
) -> Result<XmlHttpRequest, Failure> {
    let broken = |_| Failure::Other("the browser refused the request".into());
    let xhr = XmlHttpRequest::new().map_err(broken)?;
    xhr.open(method, url).map_err(broken)?;
    for (name, value) in headers {
        xhr.set_request_header(name, value).map_err(broken)?;
    }
    let (ended, mut end) = oneshot::channel::<()>();
    let ended = RefCell::new(Some(ended));
    let on_end = Closure::<dyn FnMut()>::new(move || {
        if let Some(ended) = ended.borrow_mut().take() {
            let _ = ended.send(());
        }
    });
    xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    // The event handler must be 'static and `report` is not: it leaves the bytes in a cell and
    // wakes this function, which reports them.
    let loaded = Rc::new(RefCell::new(None::<f64>));
    let (tick, mut ticks) = mpsc::unbounded::<()>();
    let on_progress = {
        let (xhr, loaded) = (xhr.clone(), loaded.clone());
        Closure::<dyn FnMut(ProgressEvent)>::new(move |ev: ProgressEvent| {
            if cancel.try_get_untracked().unwrap_or(true) {
                let _ = xhr.abort();
                return;
            }
            *loaded.borrow_mut() = Some(ev.loaded());
            let _ = tick.unbounded_send(());
        })
    };
    // A request with a body reports what it sent; one without, what it received.
    match body {
        Some(_) => {
            if let Ok(upload) = xhr.upload() {
                upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
            }
        }
        None => xhr.set_onprogress(Some(on_progress.as_ref().unchecked_ref())),
    }
    if cancel.try_get_untracked().unwrap_or(true) {
        return Err(Failure::Cancelled);
    }
    xhr.send_with_opt_blob(body).map_err(broken)?;
    // Report progress on each tick until the request ends.
    while let Either::Left((_, pending)) = select(ticks.next(), end).await {
        if let Some(bytes) = loaded.borrow_mut().take() {
            report(bytes);
        }
        end = pending;
    }
    drop((on_progress, on_end));
    match xhr.status().unwrap_or(0) {
        200..=299 => Ok(xhr),
        0 if cancel.try_get_untracked().unwrap_or(true) => Err(Failure::Cancelled),
        0 => Err(Failure::Blocked),
        // An answer the browser could read: CORS is fine, and S3 said why in its error body.
        status => {
            let body = xhr.response_text().ok().flatten().unwrap_or_default();
            Err(Failure::Other(super::s3_refusal(status, &body)))
        }
    }
}
