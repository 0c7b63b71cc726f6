//! Text read piece by piece with ranged GETs ("Load more" on a preview): each piece is bytes,
//! and a character cut by a piece's end waits for the next piece instead of turning into `�`.

/// Text read so far: the text, the bytes it came from, and the start of a character that the
/// last piece cut off.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextSoFar {
    pub text: String,
    pub bytes: u64,
    carry: Vec<u8>,
}

impl TextSoFar {
    /// Adds the next piece; `last`: nothing follows it (a cut character is shown as `�` then).
    pub fn push(&mut self, piece: &[u8], last: bool) {
        self.bytes += piece.len() as u64;
        let mut bytes = std::mem::take(&mut self.carry);
        bytes.extend_from_slice(piece);
        let whole = match std::str::from_utf8(&bytes) {
            Ok(_) => bytes.len(),
            // Only an incomplete character at the very end waits; invalid bytes are shown as `�`.
            Err(e) if e.error_len().is_none() && !last => e.valid_up_to(),
            Err(_) => bytes.len(),
        };
        self.carry = bytes.split_off(whole);
        self.text.push_str(&String::from_utf8_lossy(&bytes));
    }
}

/// Bytes `from..from + length` of the object behind a presigned GET, read by the browser from S3.
#[cfg(feature = "hydrate")]
pub async fn fetch_range(url: &str, from: u64, length: u64) -> Result<Vec<u8>, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    let unreachable =
        |_| "the browser could not reach S3 (check the bucket's CORS rule)".to_owned();
    let window = web_sys::window().ok_or("no window")?;
    let headers = js_sys::Object::new();
    let range = format!("bytes={from}-{}", from + length - 1);
    js_sys::Reflect::set(&headers, &"Range".into(), &range.into()).map_err(|_| "no headers")?;
    let init = web_sys::RequestInit::new();
    init.set_headers(&headers);
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(unreachable)?
        .unchecked_into();
    if !response.ok() {
        let body = match response.text() {
            Ok(text) => JsFuture::from(text).await.ok().and_then(|t| t.as_string()),
            Err(_) => None,
        };
        return Err(super::s3_refusal(
            response.status(),
            &body.unwrap_or_default(),
        ));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(|_| "no body")?)
        .await
        .map_err(unreachable)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

#[cfg(test)]
mod tests {
    use super::TextSoFar;

    #[test]
    fn a_character_cut_between_pieces_arrives_whole() {
        let all = "a東京😀z".as_bytes();
        let mut so_far = TextSoFar::default();
        // Cut inside 東 and inside 😀.
        so_far.push(&all[..2], false);
        assert_eq!(so_far.text, "a");
        so_far.push(&all[2..9], false);
        assert_eq!(so_far.text, "a東京");
        so_far.push(&all[9..], true);
        assert_eq!(so_far.text, "a東京😀z");
        assert_eq!(so_far.bytes, all.len() as u64);
    }

    #[test]
    fn invalid_bytes_and_a_cut_at_the_very_end_read_as_replacement_characters() {
        let mut so_far = TextSoFar::default();
        so_far.push(b"ok\xffok\xe6\x9d", true);
        assert_eq!(so_far.text, "ok\u{fffd}ok\u{fffd}");
    }
}
