//! The consent page's languages, English and Spanish, as a wallet provider serves them: chosen
//! from the browser's `Accept-Language` (the first language it prefers that the sandbox speaks,
//! by primary subtag, so `es-MX` reads Spanish), English otherwise.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::request::Parts;
use shifting_open_payments::types::AccessAction;

use crate::money::{Asset, format_minor};

/// A language of the consent page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    /// English, the default.
    En,
    /// Spanish.
    Es,
}

impl Lang {
    /// The language for an `Accept-Language` header value.
    pub(crate) fn negotiate(accept_language: &str) -> Self {
        accept_language::parse(accept_language)
            .iter()
            .find_map(|tag| {
                let primary = tag.split('-').next()?;
                if primary.eq_ignore_ascii_case("es") {
                    Some(Self::Es)
                } else if primary.eq_ignore_ascii_case("en") {
                    Some(Self::En)
                } else {
                    None
                }
            })
            .unwrap_or(Self::En)
    }

    /// The BCP 47 tag, for `<html lang>`.
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Es => "es",
        }
    }

    /// The words of the page.
    pub(crate) fn texts(self) -> &'static Texts {
        match self {
            Self::En => &EN,
            Self::Es => &ES,
        }
    }

    /// An amount with the language's decimal mark: `25.00 USD`, `25,00 USD`.
    pub(crate) fn amount(self, value: u64, asset: Asset<'_>) -> String {
        let number = format_minor(u128::from(value), asset.scale);
        let number = match self {
            Self::En => number,
            Self::Es => number.replace('.', ","),
        };
        format!("{number}\u{a0}{}", asset.code)
    }

    /// What an access action allows, in a few words.
    pub(crate) fn action(self, action: &AccessAction) -> &'static str {
        let texts = self.texts();
        match action {
            AccessAction::Create => texts.action_create,
            AccessAction::Read => texts.action_read,
            AccessAction::ReadAll => texts.action_read_all,
            AccessAction::List => texts.action_list,
            AccessAction::ListAll => texts.action_list_all,
            AccessAction::Complete => texts.action_complete,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(Self::En, Self::negotiate))
    }
}

/// Fills `{name}` placeholders of a text.
pub(crate) fn fill(text: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(text.to_owned(), |out, (name, value)| {
        out.replace(&format!("{{{name}}}"), value)
    })
}

/// A page that says something went wrong, and what to do.
#[derive(Debug)]
pub(crate) struct Notice {
    /// The heading.
    pub title: &'static str,
    /// What happened and what to do.
    pub text: &'static str,
}

/// Every text of the consent page and its error pages, in one language. A field per text, so a
/// language missing one does not compile.
#[derive(Debug)]
pub(crate) struct Texts {
    pub wallet_name: &'static str,
    pub signed_in_as: &'static str,
    /// `{client}` asks for your approval (the document title).
    pub asks_approval: &'static str,
    /// `{client}` asks to pay from your wallet (the heading).
    pub asks_to_pay: &'static str,
    pub who_asks: &'static str,
    pub access: &'static str,
    pub amount: &'static str,
    pub to: &'static str,
    pub your_balance: &'static str,
    pub approve: &'static str,
    pub decline: &'static str,
    /// What approving and declining do, with `{client}`.
    pub approve_note: &'static str,
    pub send_payment: &'static str,
    /// With `{amount}`.
    pub up_to: &'static str,
    /// With `{amount}`.
    pub enough_to_deliver: &'static str,
    pub no_limit: &'static str,
    pub anyone: &'static str,
    /// With `{actions}`.
    pub incoming_payments: &'static str,
    /// With `{actions}`.
    pub quotes: &'static str,
    /// What the payment is for, with `{description}`.
    pub for_description: &'static str,
    pub action_create: &'static str,
    pub action_read: &'static str,
    pub action_read_all: &'static str,
    pub action_list: &'static str,
    pub action_list_all: &'static str,
    pub action_complete: &'static str,
    pub just_answered: Notice,
    pub unknown_answer: Notice,
    pub already_answered: Notice,
    pub nowhere_to_return: Notice,
    pub unknown_request: Notice,
    pub wrong_browser: Notice,
    pub internal: Notice,
    /// The heading of a `subject` grant's page.
    pub prove_title: &'static str,
    /// With `{client}`.
    pub prove_asks: &'static str,
    pub wallet_label: &'static str,
    pub owner_label: &'static str,
    pub sign_in_first: &'static str,
    pub password_label: &'static str,
    pub sign_in: &'static str,
    pub wrong_password: &'static str,
    /// With `{client}`.
    pub prove_note: &'static str,
    pub not_held_here: &'static str,
    pub not_signed_in: Notice,
    pub too_many_attempts: Notice,
}

const EN: Texts = Texts {
    wallet_name: "Sandbox wallet",
    signed_in_as: "signed in as",
    asks_approval: "{client} asks for your approval",
    asks_to_pay: "{client} asks to pay from your wallet",
    who_asks: "Who asks",
    access: "Access",
    amount: "Amount",
    to: "To",
    your_balance: "Your balance",
    approve: "Approve",
    decline: "Decline",
    approve_note: "Approving lets {client} make this payment once, within the amount shown. Declining sends you back without paying.",
    send_payment: "Send a payment from your wallet",
    up_to: "up to {amount}",
    enough_to_deliver: "enough to deliver {amount}",
    no_limit: "no limit",
    anyone: "anyone",
    incoming_payments: "Incoming payments: {actions}",
    quotes: "Quotes: {actions}",
    for_description: "for \u{201c}{description}\u{201d}",
    action_create: "create",
    action_read: "read",
    action_read_all: "read all",
    action_list: "list",
    action_list_all: "list all",
    action_complete: "complete",
    just_answered: Notice {
        title: "This request was just answered",
        text: "Go back to the shop and check the payment.",
    },
    unknown_answer: Notice {
        title: "Unknown answer",
        text: "Choose Approve or Decline.",
    },
    already_answered: Notice {
        title: "This request was already answered",
        text: "Each payment request can be approved or declined once.",
    },
    nowhere_to_return: Notice {
        title: "Nowhere to go back to",
        text: "The shop gave no address to return to.",
    },
    unknown_request: Notice {
        title: "Unknown payment request",
        text: "This link does not lead to a payment request. Go back to the shop and start again.",
    },
    wrong_browser: Notice {
        title: "Open this request in the browser that started it",
        text: "This answer did not come from the browser the payment request was opened in (invalid session). Go back to the shop and start again.",
    },
    internal: Notice {
        title: "Something went wrong",
        text: "The sandbox wallet could not handle this request. Try again.",
    },
    prove_title: "Prove that you own this wallet",
    prove_asks: "{client} asks you to prove that this wallet is yours. Sign in as its owner, then approve.",
    wallet_label: "Wallet",
    owner_label: "Owner",
    sign_in_first: "Sign in to the sandbox wallet first. Each play-money account's password is listed on the sandbox's accounts page.",
    password_label: "Password",
    sign_in: "Sign in",
    wrong_password: "That password is not right. Check it on the accounts page and try again.",
    prove_note: "Approving tells {client} that you control this wallet. It gives no access to your money and moves none.",
    not_held_here: "This wallet is not held at the sandbox wallet, so its ownership cannot be proven here. Decline to go back.",
    not_signed_in: Notice {
        title: "Sign in first",
        text: "Only the wallet's owner, signed in in this browser, can prove that it is theirs. Go back to the shop and start again.",
    },
    too_many_attempts: Notice {
        title: "Too many wrong passwords",
        text: "This request takes no more sign-in attempts. Go back to the shop and start again.",
    },
};

const ES: Texts = Texts {
    wallet_name: "Billetera de prueba",
    signed_in_as: "sesión iniciada como",
    asks_approval: "{client} pide tu aprobación",
    asks_to_pay: "{client} pide pagar desde tu billetera",
    who_asks: "Quién lo pide",
    access: "Acceso",
    amount: "Importe",
    to: "Para",
    your_balance: "Tu saldo",
    approve: "Aprobar",
    decline: "Rechazar",
    approve_note: "Si apruebas, {client} podrá hacer este pago una sola vez, hasta el importe indicado. Si rechazas, vuelves sin pagar.",
    send_payment: "Enviar un pago desde tu billetera",
    up_to: "hasta {amount}",
    enough_to_deliver: "lo necesario para entregar {amount}",
    no_limit: "sin límite",
    anyone: "cualquiera",
    incoming_payments: "Pagos entrantes: {actions}",
    quotes: "Cotizaciones: {actions}",
    for_description: "por \u{ab}{description}\u{bb}",
    action_create: "crear",
    action_read: "leer",
    action_read_all: "leer todos",
    action_list: "listar",
    action_list_all: "listar todos",
    action_complete: "completar",
    just_answered: Notice {
        title: "Esta solicitud se acaba de responder",
        text: "Vuelve a la tienda y revisa el pago.",
    },
    unknown_answer: Notice {
        title: "Respuesta desconocida",
        text: "Elige Aprobar o Rechazar.",
    },
    already_answered: Notice {
        title: "Esta solicitud ya se respondió",
        text: "Cada solicitud de pago se puede aprobar o rechazar una sola vez.",
    },
    nowhere_to_return: Notice {
        title: "No hay adónde volver",
        text: "La tienda no indicó ninguna dirección de regreso.",
    },
    unknown_request: Notice {
        title: "Solicitud de pago desconocida",
        text: "Este enlace no lleva a ninguna solicitud de pago. Vuelve a la tienda y empieza de nuevo.",
    },
    wrong_browser: Notice {
        title: "Abre esta solicitud en el navegador donde empezó",
        text: "Esta respuesta no vino del navegador en el que se abrió la solicitud de pago (sesión no válida). Vuelve a la tienda y empieza de nuevo.",
    },
    internal: Notice {
        title: "Algo salió mal",
        text: "La billetera de prueba no pudo atender esta solicitud. Inténtalo de nuevo.",
    },
    prove_title: "Demuestra que esta billetera es tuya",
    prove_asks: "{client} te pide demostrar que esta billetera es tuya. Inicia sesión como su titular y luego aprueba.",
    wallet_label: "Billetera",
    owner_label: "Titular",
    sign_in_first: "Primero inicia sesión en la billetera de prueba. La contraseña de cada cuenta de dinero de juego aparece en la página de cuentas de la billetera de prueba.",
    password_label: "Contraseña",
    sign_in: "Iniciar sesión",
    wrong_password: "Esa contraseña no es correcta. Revísala en la página de cuentas e inténtalo de nuevo.",
    prove_note: "Si apruebas, {client} sabrá que controlas esta billetera. No le da acceso a tu dinero ni mueve nada.",
    not_held_here: "Esta billetera no está en la billetera de prueba, así que aquí no se puede demostrar quién es su titular. Rechaza para volver.",
    not_signed_in: Notice {
        title: "Inicia sesión primero",
        text: "Solo el titular de la billetera, con la sesión iniciada en este navegador, puede demostrar que es suya. Vuelve a la tienda y empieza de nuevo.",
    },
    too_many_attempts: Notice {
        title: "Demasiadas contraseñas incorrectas",
        text: "Esta solicitud no admite más intentos de inicio de sesión. Vuelve a la tienda y empieza de nuevo.",
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_preferred_language_the_sandbox_speaks_wins() {
        assert_eq!(Lang::negotiate("es-MX,es;q=0.9,en;q=0.8"), Lang::Es);
        assert_eq!(Lang::negotiate("fr-FR, es;q=0.5, en;q=0.4"), Lang::Es);
        assert_eq!(Lang::negotiate("en-GB, es;q=0.9"), Lang::En);
        assert_eq!(Lang::negotiate("es;q=0.2, en;q=0.9"), Lang::En);
        assert_eq!(Lang::negotiate("de, fr"), Lang::En);
        assert_eq!(Lang::negotiate(""), Lang::En);
        assert_eq!(Lang::negotiate(";;;q=x"), Lang::En);
    }

    #[test]
    fn amounts_take_the_languages_decimal_mark() {
        let usd = Asset {
            code: "USD",
            scale: 2,
        };
        let jpy = Asset {
            code: "JPY",
            scale: 0,
        };
        assert_eq!(Lang::En.amount(2500, usd), "25.00\u{a0}USD");
        assert_eq!(Lang::Es.amount(2500, usd), "25,00\u{a0}USD");
        assert_eq!(Lang::Es.amount(1500, jpy), "1500\u{a0}JPY");
    }

    #[test]
    fn placeholders_are_filled_and_the_rest_kept() {
        assert_eq!(
            fill(ES.asks_to_pay, &[("client", "Shifting")]),
            "Shifting pide pagar desde tu billetera"
        );
        assert_eq!(fill("{a} and {b}", &[("a", "1")]), "1 and {b}");
    }
}
