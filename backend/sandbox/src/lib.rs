//! The embedded Open Payments sandbox: wallet addresses, a GNAP auth server with a consent page,
//! a resource server with real balances, and signature verification, so Shifting runs and is
//! tested end to end on one machine. It is filled by the sandbox issue.
