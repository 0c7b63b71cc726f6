//! The browser's side of a zip: pages of signed files from the server, each file fetched from
//! S3 as a stream and written into the archive chunk by chunk, the archive written to disk as
//! it grows (the File System Access API), else streamed as a download through a service worker
//! (`stream.js`), else kept in memory up to [`MEMORY_LIMIT`] and saved at the end.

use js_sys::{Array, Promise, Reflect, Uint8Array};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{
    archive::{Archive, Spool},
    job::{Job, Progress},
    Skipped, ZipFile, ITEMS_PER_REQUEST, MEMORY_LIMIT,
};
use crate::{
    error::{AppError, AwsProblem},
    format::human_size,
};

/// Where the archive goes.
pub enum Destination {
    /// A file the user picked: a `FileSystemWritableFileStream`.
    File(JsValue),
    /// A download fed as it is made, through the service worker (`stream.js`'s object).
    Stream(JsValue),
    /// Chunks kept until the end, then one download.
    Memory { parts: Array, bytes: u64 },
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/zip/stream.js")]
extern "C" {
    /// A streamed download named `name`, or null where the browser has no service workers.
    #[wasm_bindgen(js_name = openStream)]
    fn open_stream(name: &str) -> Promise;
}

/// Why a zip stopped.
pub enum Stop {
    Cancelled,
    Failed(String),
}

impl From<String> for Stop {
    fn from(why: String) -> Self {
        Stop::Failed(why)
    }
}

fn js_error(err: JsValue) -> String {
    err.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| err.as_string())
        .unwrap_or_else(|| "the browser refused".into())
}

/// Asks where to save, if the browser can write a file as it goes: called in the click's own
/// handler (the picker needs the user's gesture). `None`: keep it in memory.
pub fn ask_where(name: &str) -> Option<Promise> {
    let window = web_sys::window()?;
    let picker = Reflect::get(&window, &"showSaveFilePicker".into()).ok()?;
    let picker = picker.dyn_into::<js_sys::Function>().ok()?;
    let options = js_sys::Object::new();
    let _ = Reflect::set(&options, &"suggestedName".into(), &name.into());
    picker
        .call1(&window, &options)
        .ok()?
        .dyn_into::<Promise>()
        .ok()
}

impl Destination {
    /// The picked file opened for writing (a dismissed picker is a cancel); without a picker, a
    /// streamed download named `name`, or else memory.
    pub async fn open(picking: Option<Promise>, name: &str) -> Result<Destination, Stop> {
        let Some(picking) = picking else {
            let stream = JsFuture::from(open_stream(name))
                .await
                .unwrap_or(JsValue::NULL);
            return Ok(match stream.is_object() {
                true => Destination::Stream(stream),
                false => Destination::Memory {
                    parts: Array::new(),
                    bytes: 0,
                },
            });
        };
        let handle = JsFuture::from(picking).await.map_err(|_| Stop::Cancelled)?;
        let writable = call(&handle, "createWritable", None).await?;
        Ok(Destination::File(writable))
    }

    async fn write(&mut self, bytes: Vec<u8>) -> Result<(), Stop> {
        if bytes.is_empty() {
            return Ok(());
        }
        match self {
            Destination::File(writable) | Destination::Stream(writable) => {
                let chunk = Uint8Array::from(&bytes[..]);
                call(writable, "write", Some(&chunk)).await?;
            }
            Destination::Memory { parts, bytes: kept } => {
                *kept += bytes.len() as u64;
                if *kept > MEMORY_LIMIT {
                    return Err(Stop::Failed(format!(
                        "this browser cannot write a zip to disk as it is made, and the \
                         archive passed {}: choose fewer files, or use Chrome or Edge",
                        human_size(MEMORY_LIMIT)
                    )));
                }
                parts.push(&Uint8Array::from(&bytes[..]));
            }
        }
        Ok(())
    }

    /// Closes the file, or saves the kept archive as a download named `name`.
    pub async fn close(self, name: &str) -> Result<(), Stop> {
        match self {
            Destination::File(writable) | Destination::Stream(writable) => {
                call(&writable, "close", None).await.map(|_| ())
            }
            Destination::Memory { parts, .. } => {
                crate::ui::save_file(&parts, "application/zip", name).map_err(Stop::Failed)
            }
        }
    }

    /// Drops a half-written archive.
    pub async fn abort(self) {
        if let Destination::File(writable) | Destination::Stream(writable) = self {
            let _ = call(&writable, "abort", None).await;
        }
    }
}

/// Calls a promise-returning method of a JS object and waits for it.
async fn call(object: &JsValue, method: &str, arg: Option<&JsValue>) -> Result<JsValue, Stop> {
    let broken =
        |err: JsValue| Stop::Failed(format!("the file could not be written: {}", js_error(err)));
    let function = Reflect::get(object, &method.into())
        .map_err(broken)?
        .dyn_into::<js_sys::Function>()
        .map_err(|_| Stop::Failed(format!("the browser has no {method}")))?;
    let promise = match arg {
        Some(arg) => function.call1(object, arg),
        None => function.call0(object),
    }
    .map_err(broken)?;
    JsFuture::from(Promise::from(promise)).await.map_err(broken)
}

/// Writes the archive of `job`'s items into `destination`, reporting to `progress`; the caller
/// closes or aborts it.
pub async fn run(job: Job, destination: &mut Destination, progress: Progress) -> Result<(), Stop> {
    let spool = Spool::default();
    let mut archive = Archive::new(spool.clone());
    let mut items = job.items.clone();
    let mut token: Option<String> = None;
    // Items go 50 a request; after a request refused as a whole (an item outside what the
    // connection may read), one at a time, so the refused ones are left out and the rest kept.
    let mut per_request = ITEMS_PER_REQUEST;
    while !items.is_empty() {
        let batch = items[..items.len().min(per_request)].to_vec();
        let asked = (job.pages)(batch, token.clone());
        let page = match asked.await {
            Ok(page) => page,
            // Anything else (signed out, AWS unreachable) would refuse every item alike.
            Err(err) if !refuses_an_item(&err) => return Err(Stop::Failed(err.to_string())),
            Err(_) if per_request > 1 => {
                per_request = 1;
                continue;
            }
            Err(err) => {
                let key = items.remove(0);
                progress.skip(Skipped {
                    key,
                    why: err.to_string(),
                });
                token = None;
                continue;
            }
        };
        for skipped in page.skipped {
            progress.skip(skipped);
        }
        progress.found(&page.files);
        for file in &page.files {
            if progress.cancelled() {
                return Err(Stop::Cancelled);
            }
            progress.current.set(file.key.clone());
            match &file.url {
                None => archive.folder(&file.name, file.modified)?,
                Some(url) => {
                    if let Err(why) =
                        add(&mut archive, &spool, destination, file, url, progress).await?
                    {
                        progress.skip(Skipped {
                            key: file.key.clone(),
                            why,
                        });
                    }
                }
            }
            destination.write(spool.take()).await?;
            progress.files.update(|(done, _)| *done += 1);
        }
        if page.done == 0 && page.token == token {
            return Err(Stop::Failed("the walk did not move on; try again".into()));
        }
        items.drain(..page.done.min(items.len()));
        token = page.token;
    }
    archive.finish()?;
    destination.write(spool.take()).await
}

/// Whether a refusal of a whole request may be about one of its items only (a key or folder
/// the connection may not read): then the items go one at a time, and the refused are left out.
fn refuses_an_item(err: &AppError) -> bool {
    matches!(
        err,
        AppError::Denied { .. }
            | AppError::OutsideLocation
            | AppError::Aws(AwsProblem::KmsDenied | AwsProblem::ObjectNotFound)
    )
}

/// Fetches one file and writes it into the archive as it arrives. `Ok(Err(why))`: S3 refused
/// it before any byte (the file is left out); a stream broken half-way stops the archive.
async fn add(
    archive: &mut Archive,
    spool: &Spool,
    destination: &mut Destination,
    file: &ZipFile,
    url: &str,
    progress: Progress,
) -> Result<Result<(), String>, Stop> {
    let window = web_sys::window().ok_or_else(|| "no window".to_owned())?;
    let response = match JsFuture::from(window.fetch_with_str(url)).await {
        Ok(response) => response.unchecked_into::<web_sys::Response>(),
        Err(_) => {
            return Ok(Err(
                "the browser could not reach S3 (check the bucket's CORS rule)".into(),
            ))
        }
    };
    if !response.ok() {
        let body = match response.text() {
            Ok(text) => JsFuture::from(text).await.ok().and_then(|t| t.as_string()),
            Err(_) => None,
        };
        return Ok(Err(crate::transfers::s3_refusal(
            response.status(),
            &body.unwrap_or_default(),
        )));
    }
    let body = response
        .body()
        .ok_or_else(|| "S3 sent no body".to_owned())?;
    let reader = body
        .get_reader()
        .unchecked_into::<web_sys::ReadableStreamDefaultReader>();
    let mut entry = archive.file(&file.name, file.modified)?;
    loop {
        if progress.cancelled() {
            let _ = JsFuture::from(reader.cancel()).await;
            return Err(Stop::Cancelled);
        }
        let read = JsFuture::from(reader.read())
            .await
            .map_err(|err| format!("the download of {} broke off: {}", file.key, js_error(err)))?;
        let done = Reflect::get(&read, &"done".into())
            .ok()
            .and_then(|d| d.as_bool());
        if done == Some(true) {
            break;
        }
        let chunk = Reflect::get(&read, &"value".into())
            .map_err(js_error)?
            .unchecked_into::<Uint8Array>()
            .to_vec();
        entry.write(&chunk)?;
        destination.write(spool.take()).await?;
        progress
            .bytes
            .update(|(done, _)| *done += chunk.len() as u64);
    }
    entry.finish()?;
    Ok(Ok(()))
}
