//! A mail as the composer writes it (blocks of content), and its two renderings: plain text
//! and HTML. The HTML is a single column with inline styles, as mail programs require.

use maud::{DOCTYPE, Markup, html};
use shifting_shared::Language;

/// One piece of a mail's body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Block {
    /// A paragraph.
    Text(String),
    /// A call to action: a button in HTML, the address on its own line in text.
    Button {
        /// What it says.
        label: String,
        /// Where it goes.
        url: String,
    },
    /// Label–value pairs (a receipt's facts).
    Facts(Vec<(String, String)>),
    /// Someone else's words, quoted as written (a seller's delivery note).
    Quote {
        /// Who or what it is from.
        label: String,
        /// The words.
        text: String,
    },
}

/// A file attached to a mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Attachment {
    /// Its name.
    pub name: String,
    /// Its media type.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A composed mail, ready to render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Letter {
    /// The recipient's address.
    pub to: String,
    /// The recipient's name, if we know one.
    pub to_name: Option<String>,
    /// The language it is written in.
    pub language: Language,
    /// The subject.
    pub subject: String,
    /// The body.
    pub blocks: Vec<Block>,
    /// Why they get it (the footer).
    pub reason: String,
    /// Where one click stops this kind of mail, with its label (optional notices only).
    pub unsubscribe: Option<Unsubscribe>,
    /// A file to attach.
    pub attachment: Option<Attachment>,
}

/// The two unsubscribe addresses of a mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unsubscribe {
    /// The page a person opens from the footer (it asks before it acts).
    pub page: String,
    /// The address mail programs post to (`List-Unsubscribe`, RFC 8058).
    pub one_click: String,
    /// The footer link's text.
    pub label: String,
}

impl Letter {
    /// The plain-text part.
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        for block in &self.blocks {
            match block {
                Block::Text(text) => out.push_str(text),
                Block::Button { label, url } => {
                    out.push_str(label);
                    out.push_str(":\n");
                    out.push_str(url);
                }
                Block::Facts(facts) => {
                    for (i, (label, value)) in facts.iter().enumerate() {
                        if i > 0 {
                            out.push('\n');
                        }
                        out.push_str(label);
                        out.push_str(": ");
                        out.push_str(value);
                    }
                }
                Block::Quote { label, text } => {
                    out.push_str(label);
                    for line in text.lines() {
                        out.push_str("\n> ");
                        out.push_str(line);
                    }
                }
            }
            out.push_str("\n\n");
        }
        out.push_str("-- \n");
        out.push_str(&self.reason);
        if let Some(unsubscribe) = &self.unsubscribe {
            out.push('\n');
            out.push_str(&unsubscribe.label);
            out.push_str(": ");
            out.push_str(&unsubscribe.page);
        }
        out.push('\n');
        out
    }

    /// The HTML part.
    pub(crate) fn html(&self, link_fallback: &str) -> String {
        let body: Markup = html! {
            @for block in &self.blocks {
                @match block {
                    Block::Text(text) => p style=(P) { (text) },
                    Block::Button { label, url } => {
                        p style="margin:24px 0" {
                            a href=(url) style=(BUTTON) { (label) }
                        }
                        p style=(SMALL) { (link_fallback) br; a href=(url) style="color:#1d4d3a;word-break:break-all" { (url) } }
                    },
                    Block::Facts(facts) => {
                        table role="presentation" style="border-collapse:collapse;margin:0 0 16px" {
                            @for (label, value) in facts {
                                tr {
                                    th scope="row" style="text-align:left;padding:4px 16px 4px 0;vertical-align:top;font-weight:600" { (label) }
                                    td style="padding:4px 0;word-break:break-word" { (value) }
                                }
                            }
                        }
                    },
                    Block::Quote { label, text } => {
                        p style=(P) { strong { (label) } }
                        blockquote style="margin:0 0 16px;padding:8px 16px;border-left:4px solid #1d4d3a;background:#f4f1ea;white-space:pre-wrap" { (text) }
                    },
                }
            }
        };
        html! {
            (DOCTYPE)
            html lang=(self.language.as_str()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.subject) }
                }
                body style="margin:0;padding:0;background:#f4f1ea" {
                    div style="max-width:560px;margin:0 auto;padding:24px 16px;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d1d1f" {
                        p style="font-weight:700;font-size:20px;color:#1d4d3a;margin:0 0 16px" { "Shifting" }
                        div style="background:#fff;border-radius:12px;padding:24px" { (body) }
                        p style=(SMALL) {
                            (self.reason)
                            @if let Some(unsubscribe) = &self.unsubscribe {
                                " " a href=(unsubscribe.page) style="color:#1d4d3a" { (unsubscribe.label) }
                            }
                        }
                    }
                }
            }
        }
        .into_string()
    }
}

const P: &str = "margin:0 0 16px";
const SMALL: &str = "margin:16px 0 0;font-size:13px;color:#4a4a4a";
const BUTTON: &str = "display:inline-block;background:#1d4d3a;color:#fff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:8px";

#[cfg(test)]
mod tests {
    use super::*;

    fn letter() -> Letter {
        Letter {
            to: "ana@example.com".into(),
            to_name: Some("ana".into()),
            language: Language::Es,
            subject: "Tu recibo de <Guitarra>".into(),
            blocks: vec![
                Block::Text("Hola, ana:".into()),
                Block::Button {
                    label: "Ver la compra".into(),
                    url: "https://shifting.example/transactions/1".into(),
                },
                Block::Facts(vec![("Precio".into(), "25.00 USD".into())]),
                Block::Quote {
                    label: "Del vendedor:".into(),
                    text: "Código: <b>ABC</b>\nGracias".into(),
                },
            ],
            reason: "Recibes este correo porque…".into(),
            unsubscribe: Some(Unsubscribe {
                page: "https://shifting.example/unsubscribe#token=t".into(),
                one_click: "https://shifting.example/api/mail/unsubscribe?token=t".into(),
                label: "No quiero estos avisos".into(),
            }),
            attachment: None,
        }
    }

    #[test]
    fn the_text_part_has_every_block_and_the_links_in_full() {
        let text = letter().text();
        assert!(text.contains("Ver la compra:\nhttps://shifting.example/transactions/1"));
        assert!(text.contains("Precio: 25.00 USD"));
        assert!(text.contains("Del vendedor:\n> Código: <b>ABC</b>\n> Gracias"));
        assert!(text.contains("-- \nRecibes"));
        assert!(
            text.contains("No quiero estos avisos: https://shifting.example/unsubscribe#token=t")
        );
    }

    #[test]
    fn the_html_part_escapes_what_people_wrote() {
        let html = letter().html("Si el botón no funciona:");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<html lang=\"es\">"));
        assert!(html.contains("&lt;b&gt;ABC&lt;/b&gt;"), "{html}");
        assert!(!html.contains("<b>ABC"));
        assert!(html.contains("Tu recibo de &lt;Guitarra&gt;"));
        assert!(html.contains("href=\"https://shifting.example/transactions/1\""));
        assert!(html.contains("href=\"https://shifting.example/unsubscribe#token=t\""));
    }
}
