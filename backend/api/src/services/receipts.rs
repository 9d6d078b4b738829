//! The receipt of a completed payment as a PDF: what the transaction page shows, on one A4
//! page, in English or Spanish, with the text embedded in a Unicode font (DejaVu Sans, subset
//! by `krilla` to the glyphs used) so names and amounts in any Latin, Greek or Cyrillic script print
//! as typed.

use chrono::{Datelike, Timelike};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::Point;
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use shifting_shared::api::TransactionResponse;

use crate::error::{ApiError, Result};

pub use shifting_shared::Language;

/// The first of the languages a reader asks for that we write in; English by default. Takes
/// `es`, `es-MX`, `en-GB` …, or an `Accept-Language` header's value.
#[must_use]
pub fn choose(asked: &str) -> Language {
    accept_language::intersection(asked, &["en", "es"])
        .first()
        .map_or(Language::En, |first| Language::from_tag(first))
}

/// The words on a receipt, per language (the web app's catalogues say the same).
struct Words {
    title: &'static str,
    number: &'static str,
    paid_on: &'static str,
    room: &'static str,
    seller: &'static str,
    buyer: &'static str,
    guest: &'static str,
    seller_received: &'static str,
    buyer_paid: &'static str,
    rate: &'static str,
    buyer_wallet: &'static str,
    seller_wallet: &'static str,
    evidence: &'static str,
    incoming: &'static str,
    quote: &'static str,
    outgoing: &'static str,
    transaction: &'static str,
    footer: &'static str,
}

const EN: Words = Words {
    title: "Receipt",
    number: "Receipt number",
    paid_on: "Paid on",
    room: "Room",
    seller: "Seller",
    buyer: "Buyer",
    guest: "Guest",
    seller_received: "Seller received",
    buyer_paid: "Buyer paid",
    rate: "Rate",
    buyer_wallet: "Buyer's wallet",
    seller_wallet: "Seller's wallet",
    evidence: "Open Payments evidence",
    incoming: "Incoming payment (seller's wallet)",
    quote: "Quote (buyer's wallet)",
    outgoing: "Outgoing payment (buyer's wallet)",
    transaction: "Transaction",
    footer: "Paid from wallet to wallet through Open Payments. Shifting never held the money.",
};

const ES: Words = Words {
    title: "Recibo",
    number: "Número de recibo",
    paid_on: "Pagado el",
    room: "Sala",
    seller: "Vendedor",
    buyer: "Comprador",
    guest: "Invitado",
    seller_received: "El vendedor recibió",
    buyer_paid: "El comprador pagó",
    rate: "Tipo de cambio",
    buyer_wallet: "Billetera del comprador",
    seller_wallet: "Billetera del vendedor",
    evidence: "Pruebas de Open Payments",
    incoming: "Pago entrante (billetera del vendedor)",
    quote: "Cotización (billetera del comprador)",
    outgoing: "Pago saliente (billetera del comprador)",
    transaction: "Transacción",
    footer: "Pagado de billetera a billetera con Open Payments. Shifting nunca tuvo el dinero.",
};

/// Characters per line of a value at 10 pt in the value column (DejaVu Sans is wide).
const VALUE_CHARS: usize = 56;
/// Characters per line of an evidence URL at 8 pt over the whole width.
const URL_CHARS: usize = 92;

/// The PDF of a completed transaction's receipt.
///
/// # Errors
/// 409 for a payment that has not completed (it has no receipt), internal when the font does
/// not load.
pub fn pdf(view: &TransactionResponse, language: Language) -> Result<Vec<u8>> {
    let (Some(number), Some(completed_at)) = (&view.receipt_number, view.completed_at) else {
        return Err(ApiError::conflict(
            "Only a completed payment has a receipt.",
        ));
    };
    let words = match language {
        Language::En => &EN,
        Language::Es => &ES,
    };
    let font = |bytes: &'static [u8]| {
        Font::new(bytes.into(), 0).ok_or_else(|| anyhow::anyhow!("the receipt font does not load"))
    };
    let (regular, bold) = (font(dejavu::sans::regular())?, font(dejavu::sans::bold())?);
    let mut document = Document::new();
    // The document's date is the payment's, so the same receipt reads the same.
    document.set_metadata(
        Metadata::new()
            .title(format!("{} {number}", words.title))
            .creator("Shifting".into())
            .producer("Shifting".into())
            .language(match language {
                Language::En => "en".into(),
                Language::Es => "es".into(),
            })
            .creation_date(
                DateTime::new(u16::try_from(completed_at.year()).unwrap_or(2026))
                    .month(u8::try_from(completed_at.month()).unwrap_or(1))
                    .day(u8::try_from(completed_at.day()).unwrap_or(1))
                    .hour(u8::try_from(completed_at.hour()).unwrap_or(0))
                    .minute(u8::try_from(completed_at.minute()).unwrap_or(0))
                    .second(u8::try_from(completed_at.second()).unwrap_or(0)),
            ),
    );
    let settings = PageSettings::from_wh(A4.0, A4.1)
        .ok_or_else(|| anyhow::anyhow!("an A4 page has a size"))?;
    let mut page = document.start_page_with(settings);
    write_page(
        page.surface(),
        view,
        words,
        number,
        completed_at,
        regular,
        bold,
    );
    page.finish();
    document
        .finish()
        .map_err(|err| ApiError::Internal(anyhow::anyhow!("writing the receipt: {err:?}")))
}

/// Writes the receipt's lines on its page.
fn write_page(
    surface: Surface<'_>,
    view: &TransactionResponse,
    words: &Words,
    number: &str,
    completed_at: chrono::DateTime<chrono::Utc>,
    regular: Font,
    bold: Font,
) {
    let mut lines = Lines {
        surface,
        y: MARGIN + 22.0,
        regular,
        bold,
    };
    lines.text(Style::Title, MARGIN, words.title);
    lines.gap(12.0);
    let paid = view
        .quote
        .as_ref()
        .map(|quote| quote.debit_amount.display())
        .unwrap_or_default();
    let received = view.received_amount.as_ref().unwrap_or(&view.amount);
    let mut rows = vec![
        (words.number, number.to_owned()),
        (
            words.paid_on,
            completed_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        ),
        (
            words.room,
            format!("{} ({})", view.room_name, view.room_code),
        ),
        (words.seller, view.seller.username.clone()),
        (
            words.buyer,
            if view.buyer.guest {
                words.guest.to_owned()
            } else {
                view.buyer.username.clone()
            },
        ),
        (words.seller_received, received.display()),
        (words.buyer_paid, paid),
    ];
    if let Some(rate) = view
        .quote
        .as_ref()
        .and_then(|quote| view.amount.rate(&quote.debit_amount))
    {
        rows.push((words.rate, rate));
    }
    rows.push((
        words.buyer_wallet,
        view.evidence.buyer_wallet_address.clone(),
    ));
    rows.push((
        words.seller_wallet,
        view.evidence.seller_wallet_address.clone(),
    ));
    rows.push((words.transaction, view.id.to_string()));
    for (label, value) in rows {
        lines.row(label, &value);
    }
    lines.gap(16.0);
    lines.text(Style::Heading, MARGIN, words.evidence);
    for (label, url) in [
        (words.incoming, &view.evidence.incoming_payment),
        (words.quote, &view.evidence.quote),
        (words.outgoing, &view.evidence.outgoing_payment),
    ] {
        if let Some(url) = url {
            lines.gap(4.0);
            lines.text(Style::Body, MARGIN, label);
            for line in wrap(url, URL_CHARS) {
                lines.text(Style::Small, MARGIN + 12.0, &line);
            }
        }
    }
    lines.gap(22.0);
    lines.surface.set_fill(Some(Fill {
        paint: rgb::Color::new(90, 90, 90).into(),
        ..Fill::default()
    }));
    lines.text(Style::Small, MARGIN, words.footer);
    lines.surface.finish();
}

/// A4 in points.
const A4: (f32, f32) = (595.28, 841.89);
/// The left margin and the space above the title, in points (20 mm).
const MARGIN: f32 = 56.7;
/// Where values start, in points from the left.
const VALUE_X: f32 = 220.0;

/// The kinds of text on a receipt.
#[derive(Clone, Copy)]
enum Style {
    Title,
    Heading,
    Label,
    Body,
    Small,
}

impl Style {
    fn size(self) -> f32 {
        match self {
            Self::Title => 22.0,
            Self::Heading => 12.0,
            Self::Label | Self::Body => 10.0,
            Self::Small => 8.0,
        }
    }
}

/// Lines written top-down on one page.
struct Lines<'a> {
    surface: Surface<'a>,
    /// The baseline of the next line, from the top, in points.
    y: f32,
    regular: Font,
    bold: Font,
}

impl Lines<'_> {
    fn gap(&mut self, points: f32) {
        self.y += points;
    }

    /// Writes a line and moves below it.
    fn text(&mut self, style: Style, x: f32, text: &str) {
        self.put(style, x, text);
        self.y += style.size() * 1.45;
    }

    fn put(&mut self, style: Style, x: f32, text: &str) {
        let font = match style {
            Style::Title | Style::Heading | Style::Label => self.bold.clone(),
            Style::Body | Style::Small => self.regular.clone(),
        };
        self.surface.draw_text(
            Point::from_xy(x, self.y),
            font,
            style.size(),
            text,
            false,
            TextDirection::Auto,
        );
    }

    /// A label in bold on the left, its value (wrapped) on the right.
    fn row(&mut self, label: &str, value: &str) {
        self.put(Style::Label, MARGIN, label);
        for line in wrap(value, VALUE_CHARS) {
            self.text(Style::Body, VALUE_X, &line);
        }
        self.gap(3.5);
    }
}

/// `text` in lines of at most `width` characters, broken at spaces where there are any, else
/// anywhere (wallet and resource URLs have none).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word.drain(..width).collect());
        }
        let word: String = word.into_iter().collect();
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use shifting_shared::TransactionStatus;
    use shifting_shared::api::{AmountDto, EvidenceResponse, PartyResponse, QuoteResponse};

    use super::*;

    fn money(value: &str, code: &str) -> AmountDto {
        AmountDto {
            value: value.into(),
            asset_code: code.into(),
            asset_scale: 2,
        }
    }

    /// A completed sale with long, non-Latin and right-to-left names.
    fn sale() -> TransactionResponse {
        let at = chrono::DateTime::from_timestamp(1_796_400_000, 0).unwrap();
        let rs =
            "https://wallet.example.com/rs/incoming-payments/0b9e4c1e-3f57-4a44-9a43-3c3c2b1f6d10";
        TransactionResponse {
            id: uuid::Uuid::nil(),
            room_code: "K7M2QX".into(),
            room_name:
                "Урок гитары · Γιώργος's very long lesson name that goes on and on past the column"
                    .into(),
            status: TransactionStatus::Completed,
            consent_url: None,
            amount: money("2500", "USD"),
            quote: Some(QuoteResponse {
                debit_amount: money("2315", "EUR"),
                receive_amount: money("2500", "USD"),
                expires_at: None,
            }),
            received_amount: Some(money("2500", "USD")),
            failure: None,
            buyer: PartyResponse {
                username: String::new(),
                guest: true,
            },
            seller: PartyResponse {
                username: "Zoë".into(),
                guest: false,
            },
            evidence: EvidenceResponse {
                buyer_wallet_address: "https://wallet.example.com/bruno".into(),
                seller_wallet_address: "https://wallet.example.com/alice".into(),
                incoming_payment: Some(rs.into()),
                quote: Some(rs.replace("incoming-payments", "quotes")),
                outgoing_payment: Some(rs.replace("incoming-payments", "outgoing-payments")),
            },
            created_at: at,
            updated_at: at,
            completed_at: Some(at),
            delivery: None,
            delivery_file: None,
            receipt_number: Some("SHF-7Q2-00042".into()),
            history: None,
            review_until: None,
            review: None,
            refund: None,
            refund_request: None,
        }
    }

    #[test]
    fn a_receipt_is_one_small_page_with_every_name_as_typed() {
        let pdf = pdf(&sale(), Language::Es).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.len() < 100_000, "{} bytes", pdf.len());
        let document = lopdf::Document::load_mem(&pdf).unwrap();
        assert_eq!(document.get_pages().len(), 1);
        let text = document.extract_text(&[1]).unwrap();
        for expected in [
            "Recibo",
            "SHF-7Q2-00042",
            "Урок гитары",
            "Γιώργος",
            "Zoë",
            "Invitado",
            "1 USD = 0.9260 EUR",
        ] {
            assert!(text.contains(expected), "{expected} is not in {text}");
        }
        // For looking at: the sample receipt stays in the temporary directory.
        std::fs::write(
            std::env::temp_dir().join("shifting-receipt-sample.pdf"),
            &pdf,
        )
        .unwrap();
    }

    #[test]
    fn a_payment_that_did_not_complete_has_no_receipt() {
        let mut pending = sale();
        pending.completed_at = None;
        pending.receipt_number = None;
        assert!(matches!(
            pdf(&pending, Language::En),
            Err(ApiError::Conflict { .. })
        ));
    }

    #[test]
    fn long_values_wrap_at_spaces_and_inside_urls() {
        assert_eq!(wrap("a bc def", 4), ["a bc", "def"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
        assert_eq!(wrap("ñandú ñandú", 5), ["ñandú", "ñandú"]);
    }

    #[test]
    fn the_language_follows_what_the_reader_asks_for() {
        assert_eq!(choose("es-MX,es;q=0.9,en;q=0.8"), Language::Es);
        assert_eq!(choose("es"), Language::Es);
        assert_eq!(choose("fr-FR,en;q=0.5"), Language::En);
        assert_eq!(choose(""), Language::En);
    }
}
