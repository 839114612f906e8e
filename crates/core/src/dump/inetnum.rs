//! RPSL `inetnum` (and the organisation, role and irt objects it refers to)
//! → [`Network`], described the way the registry's own RDAP server
//! describes the same object. The field mapping is in the
//! [module documentation of `dump`](super).

use super::rpsl::Object;
use super::SkipReason;
use crate::prefix::{parse_range_lenient, Range};
use crate::rdap::parse::{is_placeholder, MAX_TEXT};
use crate::rdap::{Entity, Network, Registry};

/// An inetnum that passed every check, with what its network needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inetnum {
    /// From `source:`.
    pub registry: Registry,
    /// The `inetnum:` range.
    pub range: Range,
    /// `netname:`.
    pub netname: Option<String>,
    /// `status:` as written.
    pub status: Option<String>,
    /// First `country:`, upper case.
    pub country: Option<String>,
    /// `org:` (an organisation id).
    pub org: Option<String>,
    /// `abuse-c:` (a role's nic-hdl).
    pub abuse_c: Option<String>,
    /// First `mnt-irt:` (an irt name).
    pub mnt_irt: Option<String>,
    /// `created:` as written.
    pub created: Option<String>,
    /// `last-modified:` as written, else the newest `changed:` date.
    pub last_changed: Option<String>,
    /// A registry placeholder that owns nothing.
    pub placeholder: bool,
}

/// An `organisation` object's part the import uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Org {
    /// `org-name:`.
    pub name: Option<String>,
    /// `abuse-c:` (the organisation's abuse role).
    pub abuse_c: Option<String>,
    /// First `e-mail:`, as given (obfuscated ones included).
    pub email: Option<String>,
}

/// A `role` or `irt` object's part the import uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    /// `role:` (its name) or `irt:` (its handle).
    pub name: Option<String>,
    /// `abuse-mailbox:`, as given.
    pub mailbox: Option<String>,
}

/// A kept value, refused (the object skipped as [`SkipReason::TooLarge`])
/// when longer than [`MAX_TEXT`]: a network from a dump is held to the RDAP
/// parser's text cap, as one from an answer is (its other caps hold by
/// construction: at most two entities with one role each, one status).
fn fits<S: AsRef<str>>(v: Option<S>) -> Result<Option<S>, SkipReason> {
    match v {
        Some(s) if s.as_ref().len() > MAX_TEXT => Err(SkipReason::TooLarge),
        v => Ok(v),
    }
}

/// A value without its `# comment` tail, trimmed; `None` when empty.
fn clean_str(v: &str) -> Option<&str> {
    let v = v.split('#').next().unwrap_or("").trim();
    (!v.is_empty()).then_some(v)
}

/// A value without its `# comment` tail, trimmed; `None` when empty.
pub fn clean(v: &str) -> Option<String> {
    clean_str(v).map(str::to_string)
}

/// A free-text value (a name) trimmed, `#` kept; `None` when empty.
fn text_str(v: &str) -> Option<&str> {
    let v = v.trim();
    (!v.is_empty()).then_some(v)
}

/// A free-text value (a name) trimmed, `#` kept; `None` when empty.
fn text(v: &str) -> Option<String> {
    text_str(v).map(str::to_string)
}

/// The registry a `source:` names (`RIPE`, `APNIC`, `AFRINIC`, any case).
pub fn registry_of_source(source: &str) -> Option<Registry> {
    let s = clean_str(source)?;
    [Registry::Ripe, Registry::Apnic, Registry::Afrinic]
        .into_iter()
        .find(|r| s.eq_ignore_ascii_case(r.name()))
}

/// The registry of an object's `source:`, or why it has none.
pub fn source_of(obj: &Object) -> Result<Registry, SkipReason> {
    obj.first("source")
        .and_then(registry_of_source)
        .ok_or(SkipReason::ForeignSource)
}

/// The `inetnum:` value as a range: `a.b.c.d - e.f.g.h` (zero-padded octets
/// and any spacing accepted), a CIDR, or one address.
pub fn read_range(value: &str) -> Result<Range, SkipReason> {
    let v = clean_str(value).ok_or(SkipReason::BadRange)?;
    if v.contains(':') {
        return Err(SkipReason::Ipv6);
    }
    if let Some((a, b)) = v.split_once('-') {
        let (a, b) = (a.trim(), b.trim());
        let start = parse_range_lenient(a).filter(|r| r.start == r.end);
        let end = parse_range_lenient(b).filter(|r| r.start == r.end);
        return match (start, end) {
            (Some(s), Some(e)) if s.start > e.start => Err(SkipReason::Inverted),
            (Some(s), Some(e)) => Range::new(s.start, e.start).ok_or(SkipReason::Inverted),
            _ => Err(SkipReason::BadRange),
        };
    }
    parse_range_lenient(v).ok_or(SkipReason::BadRange)
}

/// The date of a `changed: email YYYYMMDD` line as RFC 3339 (midnight UTC).
pub fn changed_date(value: &str) -> Option<String> {
    let v = clean_str(value)?;
    let d = v.split_whitespace().last()?;
    if d.len() != 8 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (y, m, day) = (d.get(..4)?, d.get(4..6)?, d.get(6..)?);
    let ok = ("01"..="12").contains(&m) && ("01"..="31").contains(&day);
    ok.then(|| format!("{y}-{m}-{day}T00:00:00Z"))
}

/// Whether an inetnum is a placeholder: the RDAP parser's name rules
/// ([`is_placeholder`], which also holds the dump-only names such as APNIC's
/// `IANA-NETBLOCK-*`), or status `ALLOCATED UNSPECIFIED` / `administrative`
/// (the status the registries give their administrative blocks). (The
/// handle of a dump's network is its range, `a.b.c.d - e.f.g.h`, which no
/// placeholder name rule can match: it is not passed.)
pub fn dump_placeholder(netname: Option<&str>, range: Range, status: Option<&str>) -> bool {
    let status = status.map(str::trim);
    is_placeholder(netname, "", range, &[])
        || status.is_some_and(|s| {
            s.eq_ignore_ascii_case("administrative")
                || s.eq_ignore_ascii_case("ALLOCATED UNSPECIFIED")
        })
}

/// An inetnum's values as the object holds them, every check passed: what
/// the first pass needs without copying a value ([`check_inetnum`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked<'a> {
    /// From `source:`.
    pub registry: Registry,
    /// The `inetnum:` range.
    pub range: Range,
    /// A registry placeholder that owns nothing.
    pub placeholder: bool,
    netname: Option<&'a str>,
    status: Option<&'a str>,
    org: Option<&'a str>,
    country: Option<&'a str>,
    last_modified: Option<&'a str>,
    abuse_c: Option<&'a str>,
    mnt_irt: Option<&'a str>,
    created: Option<&'a str>,
}

/// Checks an `inetnum` object; the error is why it is skipped. Allocates
/// nothing: [`read_inetnum`] is this, then the values copied.
pub fn check_inetnum(obj: &Object) -> Result<Checked<'_>, SkipReason> {
    // Source first: another registry's objects (LACNIC's abbreviated
    // `24.232/16`, say) are foreign, whatever their range looks like.
    let registry = source_of(obj)?;
    let range = read_range(obj.first("inetnum").unwrap_or(""))?;
    let netname = fits(obj.first("netname").and_then(clean_str))?;
    let status = fits(obj.first("status").and_then(text_str))?;
    let org = fits(obj.first("org").and_then(clean_str))?;
    // AFRINIC's RDAP names networks after their org (`ORG-IANA1-AFRINIC`):
    // the placeholder names are checked against that name too.
    let afrinic_name = org.filter(|_| registry == Registry::Afrinic);
    let placeholder = dump_placeholder(netname, range, status)
        || afrinic_name.is_some_and(|o| dump_placeholder(Some(o), range, None));
    if !placeholder && range.start >> 24 != range.end >> 24 {
        return Err(SkipReason::TooBroad);
    }
    // A `changed:` date is 20 bytes: only `last-modified:` can be too long.
    let last_modified = fits(obj.first("last-modified").and_then(clean_str))?;
    let country = obj.first("country").and_then(clean_str);
    if let Some(c) = country.filter(|c| !c.is_ascii()) {
        fits(Some(c.to_uppercase()))?;
    } else {
        fits(country)?;
    }
    Ok(Checked {
        registry,
        range,
        placeholder,
        netname,
        status,
        org,
        country,
        last_modified,
        abuse_c: fits(obj.first("abuse-c").and_then(clean_str))?,
        mnt_irt: fits(obj.first("mnt-irt").and_then(clean_str))?,
        created: fits(obj.first("created").and_then(clean_str))?,
    })
}

/// Reads and checks an `inetnum` object; the error is why it is skipped.
pub fn read_inetnum(obj: &Object) -> Result<Inetnum, SkipReason> {
    let c = check_inetnum(obj)?;
    let own = |v: Option<&str>| v.map(str::to_string);
    Ok(Inetnum {
        registry: c.registry,
        range: c.range,
        netname: own(c.netname),
        status: own(c.status),
        country: c.country.map(str::to_uppercase),
        org: own(c.org),
        abuse_c: own(c.abuse_c),
        mnt_irt: own(c.mnt_irt),
        created: own(c.created),
        last_changed: own(c.last_modified)
            .or_else(|| obj.all("changed").filter_map(changed_date).max()),
        placeholder: c.placeholder,
    })
}

/// Reads an `organisation` object: (its id, what the import uses), or why
/// it is skipped (no id; a value over [`MAX_TEXT`]).
pub fn read_org(obj: &Object) -> Result<(String, Org), SkipReason> {
    let id = fits(obj.first("organisation").and_then(clean))?.ok_or(SkipReason::NoKey)?;
    Ok((
        id,
        Org {
            name: fits(obj.first("org-name").and_then(text))?,
            abuse_c: fits(obj.first("abuse-c").and_then(clean))?,
            email: fits(obj.first("e-mail").and_then(clean))?,
        },
    ))
}

/// Reads a `role` (keyed by `nic-hdl`) or `irt` (keyed by its name) object,
/// or says why it is skipped (no key; a value over [`MAX_TEXT`]). Its e-mail
/// is the `abuse-mailbox`, the value RIPE's RDAP server types `abuse` in the
/// same role's vCard (and the RDAP parser prefers, see
/// [`crate::rdap::parse`]).
pub fn read_contact(obj: &Object) -> Result<(String, Contact), SkipReason> {
    let (key, name) = if obj.class == "irt" {
        let id = fits(obj.first("irt").and_then(clean))?.ok_or(SkipReason::NoKey)?;
        (id.clone(), Some(id))
    } else {
        (
            fits(obj.first("nic-hdl").and_then(clean))?.ok_or(SkipReason::NoKey)?,
            fits(obj.first("role").and_then(text))?,
        )
    };
    Ok((
        key,
        Contact {
            name,
            mailbox: fits(obj.first("abuse-mailbox").and_then(clean))?,
        },
    ))
}

/// The RDAP `status` list the registry's server gives such an object
/// (see the module documentation of `dump` for where this comes from).
pub fn rdap_status(inet: &Inetnum) -> Vec<String> {
    let unspecified = inet
        .status
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("ALLOCATED UNSPECIFIED"));
    let s = match inet.registry {
        Registry::Afrinic if unspecified => "reserved",
        _ if unspecified || inet.placeholder => "administrative",
        _ => "active",
    };
    vec![s.to_string()]
}

/// What the network's `name` is: the netname, except at AFRINIC, whose RDAP
/// server names a network after its `org:` (and sends no name without one).
pub fn rdap_name(inet: &Inetnum) -> Option<String> {
    match inet.registry {
        Registry::Afrinic => inet.org.clone(),
        _ => inet.netname.clone(),
    }
}

/// The parent the registry's RDAP server names, from the nesting's one:
/// APNIC's server never names its whole-space `IANA-BLOCK` (0.0.0.0/0) as a
/// parent (its /8 objects and `1.1.1.0/24` come with none), while RIPE's
/// names its `0.0.0.0 - 255.255.255.255` root (`130.59.0.0/16`, legacy).
pub fn rdap_parent(registry: Registry, parent: Option<Range>) -> Option<Range> {
    match (registry, parent) {
        (Registry::Apnic, Some(p)) if p == Range::ALL => None,
        _ => parent,
    }
}

/// Looks contacts up for [`to_network`].
pub trait Directory {
    /// The organisation `id` of `registry`.
    fn org(&self, registry: Registry, id: &str) -> Option<&Org>;
    /// The role (`nic-hdl`) or irt (`irt:` name) `id` of `registry`.
    fn contact(&self, registry: Registry, id: &str) -> Option<&Contact>;
}

/// The abuse contact's handle: APNIC's `mnt-irt` first, then the inetnum's
/// `abuse-c`, then its organisation's.
fn abuse_handle(inet: &Inetnum, org: Option<&Org>) -> Option<String> {
    let irt = match inet.registry {
        Registry::Apnic => inet.mnt_irt.clone(),
        _ => None,
    };
    irt.or_else(|| inet.abuse_c.clone())
        .or_else(|| org.and_then(|o| o.abuse_c.clone()))
}

/// The network an inetnum describes, with its parent's range (from the nesting).
pub fn to_network(inet: &Inetnum, parent: Option<Range>, dir: &dyn Directory) -> Network {
    let parent = rdap_parent(inet.registry, parent);
    let org = inet
        .org
        .as_deref()
        .and_then(|id| dir.org(inet.registry, id));
    let mut entities = Vec::new();
    if let Some(id) = &inet.org {
        entities.push(Entity {
            handle: Some(id.clone()),
            roles: vec!["registrant".to_string()],
            name: org.and_then(|o| o.name.clone()),
            email: org.and_then(|o| o.email.clone()),
        });
    }
    if let Some(h) = abuse_handle(inet, org) {
        let c = dir.contact(inet.registry, &h);
        entities.push(Entity {
            handle: Some(h),
            roles: vec!["abuse".to_string()],
            name: c.and_then(|c| c.name.clone()),
            email: c.and_then(|c| c.mailbox.clone()),
        });
    }
    Network {
        handle: inet.range.to_string(),
        range: inet.range,
        name: rdap_name(inet),
        net_type: inet.status.clone(),
        country: inet.country.clone(),
        parent_handle: parent.map(|p| p.to_string()),
        parent_range: parent,
        up_link: None,
        status: rdap_status(inet),
        entities,
        registration: inet.created.clone(),
        last_changed: inet.last_changed.clone(),
        placeholder: inet.placeholder,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(class: &'static str, attrs: &[(&'static str, &str)]) -> Object {
        let mut o = Object::new(class, 1);
        for (n, v) in attrs {
            o.push(n, v);
        }
        o
    }

    fn r(s: &str) -> Range {
        parse_range_lenient(s).unwrap()
    }

    #[test]
    fn ranges() {
        assert_eq!(read_range("193.0.0.0 - 193.0.7.255"), Ok(r("193.0.0.0/21")));
        assert_eq!(read_range("193.0.0.0-193.0.7.255"), Ok(r("193.0.0.0/21")));
        assert_eq!(
            read_range(" 80.16.151.184 - 80.016.151.191 # dummified "),
            Ok(r("80.16.151.184/29"))
        );
        assert_eq!(read_range("10.0.0.0/8"), Ok(r("10.0.0.0/8")));
        assert_eq!(read_range("10.1.2.3"), Ok(r("10.1.2.3")));
        assert_eq!(read_range("10.0.1.0 - 10.0.0.0"), Err(SkipReason::Inverted));
        assert_eq!(
            read_range("2001:db8:: - 2001:db8::ff"),
            Err(SkipReason::Ipv6)
        );
        for bad in [
            "",
            "   ",
            "# only a comment",
            "1.2.3 - 1.2.4",
            "10.0.0.0 - x",
            "1.2.3.4 - 1.2.3.0/24",
            "300.0.0.0 - 300.0.0.1",
        ] {
            assert_eq!(read_range(bad), Err(SkipReason::BadRange), "{bad:?}");
        }
    }

    #[test]
    fn sources() {
        assert_eq!(registry_of_source("RIPE"), Some(Registry::Ripe));
        assert_eq!(registry_of_source("ripe # filtered"), Some(Registry::Ripe));
        assert_eq!(registry_of_source(" Apnic "), Some(Registry::Apnic));
        assert_eq!(registry_of_source("AFRINIC"), Some(Registry::Afrinic));
        for other in ["ARIN", "LACNIC", "RIPE-NONAUTH", "JPNIC", "", "RIPEX"] {
            assert_eq!(registry_of_source(other), None, "{other}");
        }
        let o = obj(
            "inetnum",
            &[("inetnum", "1.0.0.0 - 1.0.0.255"), ("source", "RADB")],
        );
        assert_eq!(read_inetnum(&o), Err(SkipReason::ForeignSource));
        let o = obj("inetnum", &[("inetnum", "1.0.0.0 - 1.0.0.255")]);
        assert_eq!(read_inetnum(&o), Err(SkipReason::ForeignSource));
    }

    #[test]
    fn changed_dates() {
        assert_eq!(
            changed_date("hostmaster@afrinic.net 20050205"),
            Some("2005-02-05T00:00:00Z".into())
        );
        assert_eq!(
            changed_date("***@afrinic.net 20130704 # obfuscated"),
            Some("2013-07-04T00:00:00Z".into())
        );
        for bad in [
            "x@y",
            "x@y 2005020",
            "x@y 20051305",
            "x@y 20050200",
            "",
            "x@y 2005-02-05",
        ] {
            assert_eq!(changed_date(bad), None, "{bad}");
        }
        // The newest changed: wins when there is no last-modified.
        let o = obj(
            "inetnum",
            &[
                ("inetnum", "196.207.3.172 - 196.207.3.175"),
                ("changed", "a@b 20050205"),
                ("changed", "a@b 20031001"),
                ("changed", "a@b 20040421"),
                ("source", "AFRINIC"),
            ],
        );
        let i = read_inetnum(&o).unwrap();
        assert_eq!(i.last_changed, Some("2005-02-05T00:00:00Z".into()));
        assert_eq!(i.created, None);
        let mut o = o;
        o.push("last-modified", "2020-08-18T12:16:00Z");
        assert_eq!(
            read_inetnum(&o).unwrap().last_changed,
            Some("2020-08-18T12:16:00Z".into())
        );
    }

    #[test]
    fn fields_as_written_country_upper_cased() {
        let o = obj(
            "inetnum",
            &[
                ("inetnum", "196.204.208.1 - 196.204.208.255"),
                ("country", "dk"),
                ("country", "SE"),
                ("status", "Assigned PA"),
                ("source", "AFRINIC"),
            ],
        );
        let i = read_inetnum(&o).unwrap();
        assert_eq!(i.country, Some("DK".into()));
        assert_eq!(
            i.status,
            Some("Assigned PA".into()),
            "type is status as written"
        );
        assert_eq!(i.netname, None, "a missing netname is not malformed");
        assert!(!i.placeholder);
    }

    #[test]
    fn placeholders_and_too_broad() {
        let p = |netname: &str, range: &str, status: &str| {
            dump_placeholder(Some(netname), r(range), Some(status))
        };
        assert!(p(
            "IANA-BLK",
            "0.0.0.0 - 255.255.255.255",
            "ALLOCATED UNSPECIFIED"
        ));
        assert!(p(
            "NON-RIPE-NCC-MANAGED-ADDRESS-BLOCK",
            "0.0.0.0 - 1.255.255.255",
            "ALLOCATED UNSPECIFIED"
        ));
        assert!(p("STUB-1-0-0-0", "1.0.0.0/24", "ASSIGNED PORTABLE"));
        assert!(p("ERX-NETBLOCK", "133.0.0.0/8", "ALLOCATED PORTABLE"));
        assert!(p("IANA-NETBLOCK-1", "1.0.0.0/8", "ALLOCATED PORTABLE"));
        assert!(p("APNIC-AP", "101.0.0.0/8", "ALLOCATED PORTABLE"));
        assert!(p(
            "IANA-BLOCK",
            "0.0.0.0 - 255.255.255.255",
            "ALLOCATED PORTABLE"
        ));
        assert!(p("ANYTHING", "41.0.0.0/8", "ALLOCATED UNSPECIFIED"));
        assert!(p("ANYTHING", "41.0.0.0/8", "administrative"));
        assert!(!p("RIPE-NCC", "193.0.0.0/21", "ASSIGNED PA"));
        assert!(!p("IANA-NETBLOCK", "1.0.0.0/8", "ALLOCATED PORTABLE"));
        // Wider than a /8 and not a placeholder: refused like the RDAP parser's TooBroad.
        for range in [
            "0.0.0.0 - 255.255.255.255",
            "3.0.0.0 - 4.255.255.255",
            "3.128.0.0 - 4.127.255.255",
        ] {
            let o = obj(
                "inetnum",
                &[
                    ("inetnum", range),
                    ("netname", "EVIL"),
                    ("status", "ASSIGNED PA"),
                    ("source", "RIPE"),
                ],
            );
            assert_eq!(read_inetnum(&o), Err(SkipReason::TooBroad), "{range}");
        }
        let root = obj(
            "inetnum",
            &[
                ("inetnum", "0.0.0.0 - 255.255.255.255"),
                ("netname", "IANA-BLK"),
                ("status", "ALLOCATED UNSPECIFIED"),
                ("source", "RIPE"),
            ],
        );
        assert!(read_inetnum(&root).unwrap().placeholder);
        // AFRINIC: the org id is the RDAP name, so it can name a placeholder.
        let iana = |source: &str| {
            obj(
                "inetnum",
                &[
                    ("inetnum", "0.0.0.0 - 255.255.255.255"),
                    ("org", "ORG-IANA1-AFRINIC"),
                    ("status", "ALLOCATED PA"),
                    ("source", source),
                ],
            )
        };
        assert!(read_inetnum(&iana("AFRINIC")).unwrap().placeholder);
        assert_eq!(read_inetnum(&iana("RIPE")), Err(SkipReason::TooBroad));
    }

    struct Dir(Vec<(String, Org)>, Vec<(String, Contact)>);
    impl Directory for Dir {
        fn org(&self, _: Registry, id: &str) -> Option<&Org> {
            self.0.iter().find(|(k, _)| k == id).map(|(_, o)| o)
        }
        fn contact(&self, _: Registry, id: &str) -> Option<&Contact> {
            self.1.iter().find(|(k, _)| k == id).map(|(_, c)| c)
        }
    }

    fn inet(registry: Registry, attrs: &[(&'static str, &str)]) -> Inetnum {
        let mut all = vec![
            ("inetnum", "10.0.0.0 - 10.0.0.255"),
            ("source", registry.name()),
        ];
        all.extend_from_slice(attrs);
        read_inetnum(&obj("inetnum", &all)).unwrap()
    }

    #[test]
    fn registrant_and_abuse_resolution() {
        let dir = Dir(
            vec![
                (
                    "ORG-A".into(),
                    Org {
                        name: Some("Org A".into()),
                        abuse_c: Some("OA-ABUSE".into()),
                        email: None,
                    },
                ),
                (
                    "ORG-B".into(),
                    Org {
                        name: Some("Org B".into()),
                        abuse_c: None,
                        email: Some("***@b.example".into()),
                    },
                ),
            ],
            vec![
                (
                    "OWN-ABUSE".into(),
                    Contact {
                        name: Some("Own".into()),
                        mailbox: Some("own@x".into()),
                    },
                ),
                (
                    "OA-ABUSE".into(),
                    Contact {
                        name: Some("Org abuse".into()),
                        mailbox: Some("org@x".into()),
                    },
                ),
                (
                    "IRT-X".into(),
                    Contact {
                        name: Some("IRT-X".into()),
                        mailbox: Some("irt@x".into()),
                    },
                ),
            ],
        );
        let emails = |n: &Network| -> Vec<(String, String, Option<String>)> {
            n.entities
                .iter()
                .map(|e| {
                    (
                        e.handle.clone().unwrap(),
                        e.roles.join(","),
                        e.email.clone(),
                    )
                })
                .collect()
        };
        // The inetnum's own abuse-c wins over its organisation's.
        let n = to_network(
            &inet(
                Registry::Ripe,
                &[("org", "ORG-A"), ("abuse-c", "OWN-ABUSE")],
            ),
            None,
            &dir,
        );
        assert_eq!(
            emails(&n),
            [
                ("ORG-A".into(), "registrant".into(), None),
                ("OWN-ABUSE".into(), "abuse".into(), Some("own@x".into()))
            ]
        );
        assert_eq!(n.entities[0].name, Some("Org A".into()));
        // Else the organisation's abuse-c.
        let n = to_network(&inet(Registry::Ripe, &[("org", "ORG-A")]), None, &dir);
        assert_eq!(n.entities[1].email, Some("org@x".into()));
        // APNIC: mnt-irt first.
        let n = to_network(
            &inet(
                Registry::Apnic,
                &[("mnt-irt", "IRT-X"), ("abuse-c", "OWN-ABUSE")],
            ),
            None,
            &dir,
        );
        assert_eq!(
            emails(&n),
            [("IRT-X".into(), "abuse".into(), Some("irt@x".into()))]
        );
        // RIPE ignores mnt-irt for the abuse contact.
        let n = to_network(&inet(Registry::Ripe, &[("mnt-irt", "IRT-X")]), None, &dir);
        assert!(n.entities.is_empty());
        // Unknown references still name the handle; obfuscated e-mails are kept.
        let n = to_network(
            &inet(Registry::Afrinic, &[("org", "ORG-B"), ("abuse-c", "NOPE")]),
            None,
            &dir,
        );
        assert_eq!(
            emails(&n),
            [
                (
                    "ORG-B".into(),
                    "registrant".into(),
                    Some("***@b.example".into())
                ),
                ("NOPE".into(), "abuse".into(), None)
            ]
        );
        assert_eq!(
            n.name,
            Some("ORG-B".into()),
            "AFRINIC names networks after their org"
        );
    }

    #[test]
    fn network_fields() {
        let dir = Dir(Vec::new(), Vec::new());
        let i = inet(
            Registry::Ripe,
            &[
                ("netname", "NET-TEN"),
                ("status", "ASSIGNED PA"),
                ("created", "2014-07-28T08:31:45Z"),
                ("last-modified", "2015-03-31T08:16:18Z"),
            ],
        );
        let n = to_network(&i, Some(r("10.0.0.0/8")), &dir);
        assert_eq!(n.handle, "10.0.0.0 - 10.0.0.255");
        assert_eq!(n.name, Some("NET-TEN".into()));
        assert_eq!(n.net_type, Some("ASSIGNED PA".into()));
        assert_eq!(n.parent_handle, Some("10.0.0.0 - 10.255.255.255".into()));
        assert_eq!(n.parent_range, Some(r("10.0.0.0/8")));
        assert_eq!(n.status, ["active"]);
        assert_eq!(n.registration, Some("2014-07-28T08:31:45Z".into()));
        assert_eq!(n.last_changed, Some("2015-03-31T08:16:18Z".into()));
        assert!(!n.placeholder);
        let status = |reg: Registry, netname: &str, st: &str| {
            rdap_status(&inet(reg, &[("netname", netname), ("status", st)]))
        };
        assert_eq!(
            status(Registry::Afrinic, "X", "ALLOCATED UNSPECIFIED"),
            ["reserved"]
        );
        assert_eq!(
            status(Registry::Ripe, "X", "ALLOCATED UNSPECIFIED"),
            ["administrative"]
        );
        assert_eq!(
            status(Registry::Apnic, "APNIC-AP", "ALLOCATED PORTABLE"),
            ["administrative"]
        );
        assert_eq!(
            status(Registry::Apnic, "APNIC-LABS", "ASSIGNED PORTABLE"),
            ["active"]
        );
        // The whole-space root is a parent at RIPE, not at APNIC.
        assert_eq!(
            rdap_parent(Registry::Ripe, Some(Range::ALL)),
            Some(Range::ALL)
        );
        assert_eq!(rdap_parent(Registry::Apnic, Some(Range::ALL)), None);
        assert_eq!(
            rdap_parent(Registry::Apnic, Some(r("210.0.0.0/8"))),
            Some(r("210.0.0.0/8"))
        );
        assert_eq!(rdap_parent(Registry::Afrinic, None), None);
    }
}
