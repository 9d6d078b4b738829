//! The resource server: incoming payments, quotes and outgoing payments.

use url::Url;

use super::{OpenPaymentsClient, Result, Retry, parse, to_json};
use crate::types::{
    Amount, CreateIncomingPayment, CreateOutgoingPayment, CreateQuote, GrantSpentAmounts,
    IncomingPayment, OutgoingPayment, Page, Quote, WalletAddress,
};

impl OpenPaymentsClient {
    /// `POST {resourceServer}/incoming-payments`. Not retried once sent: creation is not
    /// idempotent.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn create_incoming_payment(
        &self,
        wallet: &WalletAddress,
        token: &str,
        body: &CreateIncomingPayment,
    ) -> Result<IncomingPayment> {
        let url = parse(&wallet.resource_url("incoming-payments"))?;
        self.post(url, Some(token), Some(to_json(body)), Retry::OnlyUnsent)
            .await
    }

    /// `GET {id}` of an incoming payment (authenticated view).
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn get_incoming_payment(&self, id: &str, token: &str) -> Result<IncomingPayment> {
        self.get(parse(id)?, Some(token)).await
    }

    /// `POST {id}/complete`: stops an incoming payment from accepting more money.
    ///
    /// # Errors
    /// [`OpenPaymentsError`] (409 when it is already completed).
    pub async fn complete_incoming_payment(
        &self,
        id: &str,
        token: &str,
    ) -> Result<IncomingPayment> {
        let url = parse(&format!("{}/complete", id.trim_end_matches('/')))?;
        self.post(url, Some(token), None, Retry::Harmless).await
    }

    /// `GET {resourceServer}/incoming-payments?wallet-address=…&first=…[&cursor=…]`.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn list_incoming_payments(
        &self,
        wallet: &WalletAddress,
        token: &str,
        first: u8,
        cursor: Option<&str>,
    ) -> Result<Page<IncomingPayment>> {
        let url = list_url(wallet, "incoming-payments", first, cursor)?;
        self.get(url, Some(token)).await
    }

    /// `POST {resourceServer}/quotes` for `receiver` (an incoming payment URL), without amounts.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn create_quote(
        &self,
        wallet: &WalletAddress,
        token: &str,
        receiver: &str,
    ) -> Result<Quote> {
        let body = CreateQuote {
            wallet_address: wallet.id.clone(),
            receiver: receiver.to_owned(),
            method: "ilp".into(),
            debit_amount: None,
        };
        let url = parse(&wallet.resource_url("quotes"))?;
        self.post(url, Some(token), Some(to_json(&body)), Retry::Harmless)
            .await
    }

    /// `POST {resourceServer}/quotes` for `receiver` with a fixed `debit` (the payer's asset):
    /// the quote says what the receiver gets for it.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn create_quote_for_debit(
        &self,
        wallet: &WalletAddress,
        token: &str,
        receiver: &str,
        debit: &Amount,
    ) -> Result<Quote> {
        let body = CreateQuote {
            wallet_address: wallet.id.clone(),
            receiver: receiver.to_owned(),
            method: "ilp".into(),
            debit_amount: Some(debit.clone()),
        };
        let url = parse(&wallet.resource_url("quotes"))?;
        self.post(url, Some(token), Some(to_json(&body)), Retry::Harmless)
            .await
    }

    /// `GET {id}` of a quote.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn get_quote(&self, id: &str, token: &str) -> Result<Quote> {
        self.get(parse(id)?, Some(token)).await
    }

    /// `POST {resourceServer}/outgoing-payments` from a quote. Not retried once sent: after an
    /// ambiguous failure, look the payment up instead (§6.2).
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn create_outgoing_payment(
        &self,
        wallet: &WalletAddress,
        token: &str,
        body: &CreateOutgoingPayment,
    ) -> Result<OutgoingPayment> {
        let url = parse(&wallet.resource_url("outgoing-payments"))?;
        self.post(url, Some(token), Some(to_json(body)), Retry::OnlyUnsent)
            .await
    }

    /// `GET {resourceServer}/outgoing-payment-grant`: what the outgoing-payment grant of
    /// `token` has spent (Rafiki ≥ 2.3; signed since 2.4.5).
    ///
    /// # Errors
    /// [`OpenPaymentsError`] (a provider without the endpoint answers 404).
    pub async fn grant_spent_amounts(
        &self,
        wallet: &WalletAddress,
        token: &str,
    ) -> Result<GrantSpentAmounts> {
        self.get(
            parse(&wallet.resource_url("outgoing-payment-grant"))?,
            Some(token),
        )
        .await
    }

    /// `GET {id}` of an outgoing payment.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn get_outgoing_payment(&self, id: &str, token: &str) -> Result<OutgoingPayment> {
        self.get(parse(id)?, Some(token)).await
    }

    /// `GET {resourceServer}/outgoing-payments?wallet-address=…&first=…[&cursor=…]`.
    ///
    /// # Errors
    /// [`OpenPaymentsError`].
    pub async fn list_outgoing_payments(
        &self,
        wallet: &WalletAddress,
        token: &str,
        first: u8,
        cursor: Option<&str>,
    ) -> Result<Page<OutgoingPayment>> {
        let url = list_url(wallet, "outgoing-payments", first, cursor)?;
        self.get(url, Some(token)).await
    }
}

fn list_url(
    wallet: &WalletAddress,
    resource: &str,
    first: u8,
    cursor: Option<&str>,
) -> Result<Url> {
    let mut url = parse(&wallet.resource_url(resource))?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("wallet-address", &wallet.id);
        query.append_pair("first", &first.clamp(1, 100).to_string());
        if let Some(cursor) = cursor {
            query.append_pair("cursor", cursor);
        }
    }
    Ok(url)
}
