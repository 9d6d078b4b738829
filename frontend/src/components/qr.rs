//! A QR code of a link, drawn as SVG.

use leptos::prelude::*;
use qrcode::QrCode;
use qrcode::render::svg;

/// The SVG markup of a QR code for `text`, or `None` when it is too long to encode.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(180, 180)
            .quiet_zone(true)
            .build(),
    )
}

/// A QR code of `text`, labelled for screen readers.
#[component]
pub fn Qr(text: String, #[prop(into)] label: Signal<String>) -> impl IntoView {
    let markup = qr_svg(&text).unwrap_or_default();
    view! { <div class="qr" role="img" aria-label=move || label.get() inner_html=markup></div> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_render_as_svg() {
        let svg = qr_svg("http://127.0.0.1:8080/r/K7M2QX").unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }
}
