//! Access rights: what a grant request asks for, as stored on the grant and shown in token
//! responses, and the checks the resource server makes against them.

use serde::{Deserialize, Serialize};
use shifting_open_payments::types::{AccessAction, Limits};

/// One access item of a grant (the spec's `access-incoming`, `access-quote`,
/// `access-outgoing`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum Access {
    /// Incoming payments.
    IncomingPayment {
        /// Allowed actions.
        actions: Vec<AccessAction>,
        /// Restricts the token to one wallet address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identifier: Option<String>,
    },
    /// Quotes (Rafiki also accepts an `identifier` here, §10).
    Quote {
        /// Allowed actions.
        actions: Vec<AccessAction>,
        /// Restricts the token to one wallet address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identifier: Option<String>,
    },
    /// Outgoing payments.
    OutgoingPayment {
        /// Allowed actions.
        actions: Vec<AccessAction>,
        /// The paying wallet address (required: the grant is interactive).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identifier: Option<String>,
        /// Amount and receiver limits.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limits: Option<Limits>,
    },
}

/// The resource types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    IncomingPayment,
    Quote,
    OutgoingPayment,
}

/// What a token may do with one kind of resource of one wallet address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Permission<'a> {
    /// The item that allows it.
    pub(crate) item: &'a Access,
    /// Whether resources created by other clients are included (`read-all`, `list-all`).
    pub(crate) all: bool,
}

impl Access {
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Self::IncomingPayment { .. } => Kind::IncomingPayment,
            Self::Quote { .. } => Kind::Quote,
            Self::OutgoingPayment { .. } => Kind::OutgoingPayment,
        }
    }

    pub(crate) fn actions(&self) -> &[AccessAction] {
        match self {
            Self::IncomingPayment { actions, .. }
            | Self::Quote { actions, .. }
            | Self::OutgoingPayment { actions, .. } => actions,
        }
    }

    pub(crate) fn identifier(&self) -> Option<&str> {
        match self {
            Self::IncomingPayment { identifier, .. }
            | Self::Quote { identifier, .. }
            | Self::OutgoingPayment { identifier, .. } => identifier.as_deref(),
        }
    }

    /// Whether Rafiki would ask the user before granting this item.
    pub(crate) fn needs_interaction(&self) -> bool {
        self.kind() == Kind::OutgoingPayment || self.actions().contains(&AccessAction::ListAll)
    }
}

/// Finds the item allowing `action` on `kind` resources of `wallet`. `read` and `list` are
/// satisfied by their `-all` forms too.
pub(crate) fn permits<'a>(
    access: &'a [Access],
    kind: Kind,
    action: AccessAction,
    wallet: &str,
) -> Option<Permission<'a>> {
    let all_form = match action {
        AccessAction::Read => Some(AccessAction::ReadAll),
        AccessAction::List => Some(AccessAction::ListAll),
        _ => None,
    };
    let matching = access
        .iter()
        .filter(|item| item.kind() == kind && item.identifier().is_none_or(|id| id == wallet));
    let mut found = None;
    for item in matching {
        if all_form.is_some_and(|all| item.actions().contains(&all)) {
            return Some(Permission { item, all: true });
        }
        if found.is_none() && item.actions().contains(&action) {
            found = Some(Permission { item, all: false });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incoming(actions: &[AccessAction], identifier: Option<&str>) -> Access {
        Access::IncomingPayment {
            actions: actions.to_vec(),
            identifier: identifier.map(str::to_owned),
        }
    }

    #[test]
    fn an_identifier_restricts_the_wallet() {
        let access = [incoming(&[AccessAction::Create], Some("http://s/alice"))];
        assert!(
            permits(
                &access,
                Kind::IncomingPayment,
                AccessAction::Create,
                "http://s/alice"
            )
            .is_some()
        );
        assert!(
            permits(
                &access,
                Kind::IncomingPayment,
                AccessAction::Create,
                "http://s/bruno"
            )
            .is_none()
        );
        assert!(permits(&access, Kind::Quote, AccessAction::Create, "http://s/alice").is_none());
    }

    #[test]
    fn read_all_includes_read_and_says_so() {
        let own = [incoming(&[AccessAction::Read], None)];
        let all = [incoming(&[AccessAction::ReadAll], None)];
        let w = "http://s/alice";
        assert!(
            !permits(&own, Kind::IncomingPayment, AccessAction::Read, w)
                .unwrap()
                .all
        );
        assert!(
            permits(&all, Kind::IncomingPayment, AccessAction::Read, w)
                .unwrap()
                .all
        );
        assert!(permits(&own, Kind::IncomingPayment, AccessAction::List, w).is_none());
    }

    #[test]
    fn items_round_trip_in_the_wire_shape() {
        let json = r#"{"type":"outgoing-payment","actions":["create","read"],"identifier":"http://s/alice","limits":{"debitAmount":{"value":"10","assetCode":"USD","assetScale":2},"receiver":"http://s/rs/incoming-payments/x"}}"#;
        let item: Access = serde_json::from_str(json).unwrap();
        assert!(item.needs_interaction());
        assert_eq!(
            serde_json::to_value(&item).unwrap(),
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
        let unknown = r#"{"type":"quote","actions":["create"],"colour":"red"}"#;
        assert!(serde_json::from_str::<Access>(unknown).is_err());
    }
}
