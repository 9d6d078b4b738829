//! What the mail says, in every language we write in. One struct per language, so a text
//! missing in one of them does not compile. `{name}`-style slots are filled by the composer.

use shifting_shared::Language;

/// The words of every mail.
pub(crate) struct Words {
    pub greeting: &'static str,
    pub greeting_guest: &'static str,
    pub footer_account: &'static str,
    pub footer_guest: &'static str,
    pub footer_unsubscribe: &'static str,
    pub link_fallback: &'static str,

    pub verify_subject: &'static str,
    pub verify_body: &'static str,
    pub verify_button: &'static str,
    pub verify_note: &'static str,

    pub new_email_subject: &'static str,
    pub new_email_body: &'static str,
    pub new_email_button: &'static str,
    pub new_email_note: &'static str,

    pub email_changed_subject: &'static str,
    pub email_changed_body: &'static str,
    pub not_you_reset: &'static str,
    pub reset_button_short: &'static str,

    pub reset_subject: &'static str,
    pub reset_body: &'static str,
    pub reset_button: &'static str,
    pub reset_note: &'static str,

    pub password_changed_subject: &'static str,
    pub password_changed_body: &'static str,

    pub receipt_subject: &'static str,
    pub receipt_body: &'static str,
    pub receipt_button: &'static str,
    pub receipt_attached: &'static str,
    pub receipt_delivery: &'static str,

    pub sold_subject: &'static str,
    pub sold_body: &'static str,
    pub sold_button: &'static str,
    pub a_guest: &'static str,

    pub problem_subject: &'static str,
    pub problem_failed: &'static str,
    pub problem_expired: &'static str,
    pub problem_rejected: &'static str,
    pub problem_nothing_moved: &'static str,
    pub problem_button: &'static str,

    pub unread_subject: &'static str,
    pub unread_body: &'static str,
    pub unread_button: &'static str,
    pub unread_note: &'static str,

    pub webhook_off_subject: &'static str,
    pub webhook_off_body: &'static str,
    pub webhook_off_failing: &'static str,
    pub webhook_off_gone: &'static str,
    pub webhook_off_button: &'static str,

    pub fact_room: &'static str,
    pub fact_amount: &'static str,
    pub fact_received: &'static str,
    pub fact_seller: &'static str,
    pub fact_buyer: &'static str,
    pub fact_receipt: &'static str,
    pub fact_date: &'static str,
    pub fact_wallet: &'static str,
}

const EN: Words = Words {
    greeting: "Hello {name},",
    greeting_guest: "Hello,",
    footer_account: "You get this mail because you have a Shifting account with this address.",
    footer_guest: "You get this mail because you asked for a receipt when you paid on Shifting.",
    footer_unsubscribe: "Stop these notices",
    link_fallback: "If the button does not work, copy this address into your browser:",

    verify_subject: "Confirm your e-mail address",
    verify_body: "Confirm that this address is yours, so that Shifting can send you receipts and notices.",
    verify_button: "Confirm my address",
    verify_note: "The link works for 7 days. If you did not create a Shifting account, ignore this mail.",

    new_email_subject: "Confirm your new e-mail address",
    new_email_body: "You asked to use this address for your Shifting account. Until you confirm it, your account keeps {old}.",
    new_email_button: "Use this address",
    new_email_note: "The link works for 24 hours. If you did not ask for this, ignore this mail.",

    email_changed_subject: "Your e-mail address was changed",
    email_changed_body: "The e-mail address of your Shifting account is now {new}. Mail no longer comes to this address.",
    not_you_reset: "If you did not do this, someone else may have your password: reset it now.",
    reset_button_short: "Reset my password",

    reset_subject: "Reset your password",
    reset_body: "Someone, hopefully you, asked to reset the password of your Shifting account.",
    reset_button: "Choose a new password",
    reset_note: "The link works once, for 30 minutes. If you did not ask, ignore this mail: your password stays as it is.",

    password_changed_subject: "Your password was changed",
    password_changed_body: "The password of your Shifting account was changed, and every other session was signed out.",

    receipt_subject: "Your receipt for {room}",
    receipt_body: "Thank you for your purchase. Your payment reached the seller.",
    receipt_button: "View the purchase",
    receipt_attached: "The receipt is attached as a PDF.",
    receipt_delivery: "From the seller:",

    sold_subject: "You sold {room}",
    sold_body: "{buyer} bought {room}. The payment reached your wallet.",
    sold_button: "View the sale",
    a_guest: "A guest",

    problem_subject: "Your payment for {room} did not go through",
    problem_failed: "Your wallet could not complete the payment.",
    problem_expired: "The payment was not approved in your wallet in time.",
    problem_rejected: "The payment was declined in your wallet.",
    problem_nothing_moved: "The seller received nothing. You can try again whenever you like.",
    problem_button: "Try again",

    unread_subject: "{name} wrote to you about {room}",
    unread_body: "{name} wrote to you about {room}:",
    unread_button: "Read and reply",
    unread_note: "You get this mail because the message was still unread 10 minutes after it was written.",

    webhook_off_subject: "Shifting turned off one of your webhooks",
    webhook_off_body: "Shifting no longer sends events to {url}.",
    webhook_off_failing: "Every delivery to it failed for 5 days. Fix the receiver, then turn the webhook on and send again what it missed.",
    webhook_off_gone: "The address answered 410 Gone, which says it no longer takes events. If it should, turn the webhook on again.",
    webhook_off_button: "Open your webhooks",

    fact_room: "Item",
    fact_amount: "Price",
    fact_received: "Received",
    fact_seller: "Seller",
    fact_buyer: "Buyer",
    fact_receipt: "Receipt",
    fact_date: "Date",
    fact_wallet: "Wallet",
};

const ES: Words = Words {
    greeting: "Hola, {name}:",
    greeting_guest: "Hola:",
    footer_account: "Recibes este correo porque tienes una cuenta de Shifting con esta dirección.",
    footer_guest: "Recibes este correo porque pediste un recibo al pagar en Shifting.",
    footer_unsubscribe: "No quiero estos avisos",
    link_fallback: "Si el botón no funciona, copia esta dirección en tu navegador:",

    verify_subject: "Confirma tu dirección de correo",
    verify_body: "Confirma que esta dirección es tuya para que Shifting pueda enviarte recibos y avisos.",
    verify_button: "Confirmar mi dirección",
    verify_note: "El enlace funciona durante 7 días. Si no creaste una cuenta en Shifting, ignora este correo.",

    new_email_subject: "Confirma tu nueva dirección de correo",
    new_email_body: "Pediste usar esta dirección en tu cuenta de Shifting. Hasta que la confirmes, tu cuenta sigue usando {old}.",
    new_email_button: "Usar esta dirección",
    new_email_note: "El enlace funciona durante 24 horas. Si no lo pediste, ignora este correo.",

    email_changed_subject: "Se cambió tu dirección de correo",
    email_changed_body: "La dirección de correo de tu cuenta de Shifting ahora es {new}. Ya no recibirás correo en esta dirección.",
    not_you_reset: "Si no fuiste tú, puede que alguien tenga tu contraseña: cámbiala ahora.",
    reset_button_short: "Restablecer mi contraseña",

    reset_subject: "Restablece tu contraseña",
    reset_body: "Alguien, ojalá tú, pidió restablecer la contraseña de tu cuenta de Shifting.",
    reset_button: "Elegir una contraseña nueva",
    reset_note: "El enlace funciona una sola vez, durante 30 minutos. Si no lo pediste, ignora este correo: tu contraseña no cambia.",

    password_changed_subject: "Se cambió tu contraseña",
    password_changed_body: "Se cambió la contraseña de tu cuenta de Shifting y se cerraron todas las demás sesiones.",

    receipt_subject: "Tu recibo de {room}",
    receipt_body: "Gracias por tu compra. Tu pago llegó al vendedor.",
    receipt_button: "Ver la compra",
    receipt_attached: "El recibo va adjunto en PDF.",
    receipt_delivery: "Del vendedor:",

    sold_subject: "Vendiste {room}",
    sold_body: "{buyer} compró {room}. El pago llegó a tu billetera.",
    sold_button: "Ver la venta",
    a_guest: "Un invitado",

    problem_subject: "Tu pago de {room} no se completó",
    problem_failed: "Tu billetera no pudo completar el pago.",
    problem_expired: "El pago no se aprobó a tiempo en tu billetera.",
    problem_rejected: "El pago se rechazó en tu billetera.",
    problem_nothing_moved: "El vendedor no recibió nada. Puedes intentarlo de nuevo cuando quieras.",
    problem_button: "Intentar de nuevo",

    unread_subject: "{name} te escribió sobre {room}",
    unread_body: "{name} te escribió sobre {room}:",
    unread_button: "Leer y responder",
    unread_note: "Recibes este correo porque el mensaje seguía sin leer 10 minutos después de escribirse.",

    webhook_off_subject: "Shifting desactivó uno de tus webhooks",
    webhook_off_body: "Shifting ya no envía eventos a {url}.",
    webhook_off_failing: "Todas las entregas fallaron durante 5 días. Arregla el receptor, activa el webhook y vuelve a enviar lo que no recibió.",
    webhook_off_gone: "La dirección respondió 410 Gone, que indica que ya no acepta eventos. Si debe aceptarlos, activa el webhook de nuevo.",
    webhook_off_button: "Abrir tus webhooks",

    fact_room: "Artículo",
    fact_amount: "Precio",
    fact_received: "Recibido",
    fact_seller: "Vendedor",
    fact_buyer: "Comprador",
    fact_receipt: "Recibo",
    fact_date: "Fecha",
    fact_wallet: "Billetera",
};

/// The words in `language`.
pub(crate) fn words(language: Language) -> &'static Words {
    match language {
        Language::En => &EN,
        Language::Es => &ES,
    }
}

/// `text` with each `{slot}` replaced by its value.
pub(crate) fn fill(text: &str, slots: &[(&str, &str)]) -> String {
    slots.iter().fold(text.to_owned(), |text, (slot, value)| {
        text.replace(&format!("{{{slot}}}"), value)
    })
}
