//! QR codes as inline SVG, for what a phone should open: an authenticator app's setup URI, a
//! share link.

use qrcode::{render::svg, QrCode};

use crate::error::AppError;

/// `text` as an SVG element of at least 200×200 pixels, ready to put in the page.
pub fn svg(text: &str) -> Result<String, AppError> {
    let svg = QrCode::new(text.as_bytes())
        .map_err(AppError::internal)?
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // The XML declaration means nothing inside HTML.
    Ok(svg
        .find("<svg")
        .map_or(svg.clone(), |at| svg[at..].to_owned()))
}
