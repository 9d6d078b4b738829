//! One component per route, and the paths they live at.

pub mod home;
pub mod login;
pub mod not_found;
pub mod signup;

/// The app's pages, so paths are written once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// `/`
    Home,
    /// `/signup`
    Signup,
    /// `/login`
    Login,
}

impl Page {
    /// The page's path.
    pub fn path(self) -> &'static str {
        match self {
            Self::Home => "/",
            Self::Signup => "/signup",
            Self::Login => "/login",
        }
    }
}

/// Where to go after signing in: the `next` query parameter if it is a local path, else home.
pub fn next_path(next: Option<String>) -> String {
    match next {
        // Only same-site paths: "//evil.example" would leave the site.
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path
        }
        _ => Page::Home.path().to_owned(),
    }
}
