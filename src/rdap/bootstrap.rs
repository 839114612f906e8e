//! IANA RDAP bootstrap (RFC 9224): which registry serves which /8.
