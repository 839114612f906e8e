//! The HTTP client (the only ureq user).
