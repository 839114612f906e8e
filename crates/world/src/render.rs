//! Answer bodies in each registry's own JSON style, modelled on the real
//! answers in `shared/data/rdap-samples/`: ARIN `NET-…` handles and
//! `cidr0_cidrs`; RIPE range-string handles and RIPE types; APNIC portable types
//! and `up` links; LACNIC CIDR handles, lower-case types, no name; AFRINIC
//! RIPE-style with unencoded spaces in its self link.

use serde_json::{json, Value};

use ipcrawl_core::prefix::{fmt_addr, Cidr, Range};
use ipcrawl_core::rdap::Registry;

use super::model::{Kind, Model, Net, Placeholder};

/// Each registry's base URL in this world (`http://127.0.0.1:PORT/`).
pub type Bases = [String; 5];

/// The `Content-Type` a registry's server sends.
pub fn content_type(r: Registry) -> &'static str {
    match r {
        Registry::Lacnic => "application/json;charset=UTF-8",
        _ => "application/rdap+json",
    }
}

fn port43(r: Registry) -> &'static str {
    match r {
        Registry::Arin => "whois.arin.net",
        Registry::Ripe => "whois.ripe.net",
        Registry::Apnic => "whois.apnic.net",
        Registry::Lacnic => "whois.lacnic.net",
        Registry::Afrinic => "whois.afrinic.net",
    }
}

fn cidr0(r: Range) -> Value {
    Value::Array(
        r.to_cidrs()
            .iter()
            .map(|c| json!({"v4prefix": fmt_addr(c.addr()), "length": c.len()}))
            .collect(),
    )
}

/// The path that names `r` best: `a.b.c.d/len` when it is one CIDR, else its start.
fn path_of(r: Range) -> String {
    r.as_cidr()
        .map_or_else(|| fmt_addr(r.start), |c| c.to_string())
}

fn vcard(fname: &str, kind: &str, email: Option<&str>, adr: &str) -> Value {
    let mut props = vec![
        json!(["version", {}, "text", "4.0"]),
        json!(["fn", {}, "text", fname]),
        json!(["kind", {}, "text", kind]),
        json!(["adr", {"label": adr}, "text", ["", "", "", "", "", "", ""]]),
    ];
    if let Some(e) = email {
        props.push(json!(["email", {}, "text", e]));
    }
    json!(["vcard", props])
}

/// The time of day of every registration event (and `created:` in the dumps).
pub(crate) const REGISTERED_AT: &str = "T10:00:00";
/// The time of day of every last-changed event (and `last-modified:`).
pub(crate) const CHANGED_AT: &str = "T12:30:00";

fn events(reg: &str, changed: &str, tz: &str) -> Value {
    json!([
        {"eventAction": "registration", "eventDate": format!("{reg}{REGISTERED_AT}{tz}")},
        {"eventAction": "last changed", "eventDate": format!("{changed}{CHANGED_AT}{tz}")}
    ])
}

pub(crate) fn dom(name: &str) -> String {
    let n: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("{n}.example.net")
}

fn slash8(start: u32) -> Cidr {
    Cidr::new_masked(start, 8)
}

/// The `type` word a registry gives a network of kind `k` (the `status:`
/// of its RPSL object at RIPE NCC, APNIC and AFRINIC).
pub fn net_type(r: Registry, k: Kind) -> &'static str {
    match (r, k) {
        (Registry::Arin, Kind::Allocation | Kind::Legacy) => "DIRECT ALLOCATION",
        (Registry::Arin, Kind::Assignment) => "DIRECT ASSIGNMENT",
        (Registry::Arin, Kind::SubAllocation) => "REALLOCATION",
        (Registry::Arin, Kind::Reassignment) => "REASSIGNMENT",
        (Registry::Ripe | Registry::Afrinic, Kind::Allocation) => "ALLOCATED PA",
        (Registry::Ripe | Registry::Afrinic, Kind::Assignment) => "ASSIGNED PI",
        (Registry::Ripe | Registry::Afrinic, Kind::Legacy) => "LEGACY",
        (Registry::Ripe | Registry::Afrinic, Kind::SubAllocation) => "SUB-ALLOCATED PA",
        (Registry::Ripe | Registry::Afrinic, Kind::Reassignment) => "ASSIGNED PA",
        (Registry::Apnic, Kind::Allocation | Kind::Legacy) => "ALLOCATED PORTABLE",
        (Registry::Apnic, Kind::Assignment) => "ASSIGNED PORTABLE",
        (Registry::Apnic, Kind::SubAllocation) => "ALLOCATED NON-PORTABLE",
        (Registry::Apnic, Kind::Reassignment) => "ASSIGNED NON-PORTABLE",
        (Registry::Lacnic, Kind::Allocation | Kind::Legacy) => "allocated",
        (Registry::Lacnic, Kind::Assignment) => "assigned",
        (Registry::Lacnic, Kind::SubAllocation) => "reallocated",
        (Registry::Lacnic, Kind::Reassignment) => "reassigned",
    }
}

/// The parent range a top-level network names: its /8, or the whole space
/// when it is the /8 itself (it cannot be its own parent).
pub fn top_parent(r: Range) -> Range {
    let block = slash8(r.start).range();
    if block == r {
        Range::ALL
    } else {
        block
    }
}

/// The registrant organisation and abuse contact of a RIPE NCC, AFRINIC or
/// APNIC network, shared by its RDAP answer and its bulk-dump objects
/// ([`crate::dumps`]). Every name and e-mail is a function of the handle
/// it belongs to, so one organisation or role object serves every network
/// that names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contacts {
    /// Organisation id (`ORG-NL12-RIPE`, `ORG-CN12-AP`).
    pub org: String,
    /// Its `org-name` (the registrant's vCard `fn`).
    pub org_name: String,
    /// Abuse contact handle: a role's nic-hdl (RIPE NCC, AFRINIC) or an irt (APNIC).
    pub abuse: String,
    /// The abuse contact's name (vCard `fn`; the role's `role:`, the irt's handle).
    pub abuse_name: String,
    /// Its `abuse-mailbox`.
    pub abuse_email: String,
}

fn title_word(k: u64) -> String {
    let w = super::model::word(k);
    let mut out = String::with_capacity(w.len());
    for (i, c) in w.chars().enumerate() {
        out.push(if i == 0 { c } else { c.to_ascii_lowercase() });
    }
    out
}

/// An organisation's name from its id's parts.
fn org_name(prefix: &str, k: u64) -> String {
    format!("{} {prefix} {k} Ltd", title_word(k))
}

/// The contacts of `n` (RIPE NCC, AFRINIC and APNIC styles; ARIN and LACNIC
/// answers draw their own).
pub fn contacts(n: &Net) -> Contacts {
    let k = n.holder % 997 + 1;
    if n.registry == Registry::Apnic {
        let cc = n.cc.as_deref().unwrap_or("AP");
        let irt = format!("IRT-{}-{cc}", n.name.replace('-', ""));
        return Contacts {
            org: format!("ORG-{cc}{k}-AP"),
            org_name: org_name(cc, k),
            abuse_name: irt.clone(),
            abuse: irt,
            abuse_email: format!("abuse@{}", dom(&n.name)),
        };
    }
    let suffix = if n.registry == Registry::Afrinic {
        "AFRINIC"
    } else {
        "RIPE"
    };
    let prefix = n.name.get(..2).unwrap_or(&n.name);
    let m = n.holder % 99_991 + 1;
    Contacts {
        org: format!("ORG-{prefix}{k}-{suffix}"),
        org_name: org_name(prefix, k),
        abuse: format!("AR{m}-{suffix}"),
        abuse_name: "Abuse contact".to_string(),
        abuse_email: format!("abuse@noc{m}.example.net"),
    }
}

/// The body for network `i` answered by its registry's server; `query_url` is
/// echoed in the links' `value`.
pub fn network(model: &Model, i: u32, bases: &Bases, query_url: &str) -> Vec<u8> {
    to_bytes(
        model.nets[i as usize].registry,
        &network_value(model, i, bases, query_url),
    )
}

/// The lookup answer for network `i` as JSON (what [`network`] writes).
pub fn network_value(model: &Model, i: u32, bases: &Bases, query_url: &str) -> Value {
    let n = &model.nets[i as usize];
    let parent = n.parent.map(|p| &model.nets[p as usize]);
    let base = &bases[n.registry.index()];
    match n.registry {
        Registry::Arin => arin(n, parent, base, query_url),
        Registry::Ripe | Registry::Afrinic => ripe_like(n, parent, base, query_url),
        Registry::Apnic => apnic(n, parent, base, query_url),
        Registry::Lacnic => lacnic(n, parent, base, query_url),
    }
}

fn to_bytes(r: Registry, v: &Value) -> Vec<u8> {
    let out = if r == Registry::Apnic {
        serde_json::to_vec(v)
    } else {
        serde_json::to_vec_pretty(v)
    };
    out.unwrap_or_default()
}

fn arin(n: &Net, parent: Option<&Net>, base: &str, q: &str) -> Value {
    let ty = net_type(n.registry, n.kind);
    let parent_handle = parent.map_or_else(
        || format!("NET-{}-0-0-0-0", n.range.start >> 24),
        |p| p.handle.clone(),
    );
    let org = format!(
        "{}-{}",
        n.name.split('-').nth(1).unwrap_or("NET"),
        n.holder % 997 + 1
    );
    let abuse = format!("ABUSE{}-ARIN", n.holder % 9973 + 1);
    let email = format!("abuse@{}", dom(&org));
    json!({
        "rdapConformance": ["rdap_level_0", "cidr0", "arin_originas0"],
        "notices": [
            {"title": "Terms of Service",
             "description": ["By using the ARIN RDAP/Whois service, you are agreeing to the RDAP/Whois Terms of Use"],
             "links": [{"value": q, "rel": "terms-of-service", "type": "text/html",
                        "href": "https://www.arin.net/resources/registry/whois/tou/"}]},
            {"title": "Copyright Notice",
             "description": ["Copyright 1997-2026, American Registry for Internet Numbers, Ltd."]}
        ],
        "handle": n.handle,
        "startAddress": fmt_addr(n.range.start),
        "endAddress": fmt_addr(n.range.end),
        "ipVersion": "v4",
        "name": n.name,
        "type": ty,
        "parentHandle": parent_handle,
        "events": [
            {"eventAction": "last changed", "eventDate": format!("{}T09:56:01-04:00", n.changed)},
            {"eventAction": "registration", "eventDate": format!("{}T15:57:53-05:00", n.registered)}
        ],
        "links": [
            {"value": q, "rel": "self", "type": "application/rdap+json",
             "href": format!("{base}ip/{}", fmt_addr(n.range.start))},
            {"value": q, "rel": "alternate", "type": "application/xml",
             "href": format!("https://whois.arin.net/rest/net/{}", n.handle)}
        ],
        "entities": [{
            "handle": org,
            "vcardArray": vcard(&n.name, "org", None, "100 Main St\nAnytown\nVA\n20001\nUnited States"),
            "roles": ["registrant"],
            "links": [{"value": q, "rel": "self", "type": "application/rdap+json",
                       "href": format!("{base}entity/{org}")}],
            "entities": [{
                "handle": abuse,
                "vcardArray": vcard("Abuse Desk", "group", Some(&email), "100 Main St\nAnytown\nVA\n20001\nUnited States"),
                "roles": ["abuse"],
                "status": ["validated"],
                "port43": "whois.arin.net",
                "objectClassName": "entity"
            }],
            "port43": "whois.arin.net",
            "objectClassName": "entity"
        }],
        "port43": "whois.arin.net",
        "status": ["active"],
        "objectClassName": "ip network",
        "cidr0_cidrs": cidr0(n.range),
        "arin_originas0_originautnums": []
    })
}

fn ripe_like(n: &Net, parent: Option<&Net>, base: &str, q: &str) -> Value {
    let afrinic = n.registry == Registry::Afrinic;
    let ty = net_type(n.registry, n.kind);
    let parent_handle =
        parent.map_or_else(|| top_parent(n.range).to_string(), |p| p.range.to_string());
    let suffix = if afrinic { "AFRINIC" } else { "RIPE" };
    let c = contacts(n);
    // AFRINIC's server names a network after its organisation.
    let name = if afrinic { &c.org } else { &n.name };
    let self_href = if afrinic {
        format!("{base}ip/{}", n.range)
    } else {
        format!("{base}ip/{}", path_of(n.range))
    };
    let mut v = json!({
        "handle": n.handle,
        "startAddress": fmt_addr(n.range.start),
        "endAddress": fmt_addr(n.range.end),
        "ipVersion": "v4",
        "name": name,
        "type": ty,
        "country": n.cc.as_deref().unwrap_or("EU"),
        "parentHandle": parent_handle,
        "cidr0_cidrs": cidr0(n.range),
        "status": ["active"],
        "entities": [
            {"handle": c.org, "vcardArray": vcard(&c.org_name, "org", None, "Keizersgracht 1\nAmsterdam"),
             "roles": ["registrant"], "objectClassName": "entity"},
            {"handle": c.abuse, "vcardArray": vcard(&c.abuse_name, "group", Some(&c.abuse_email), "Keizersgracht 1\nAmsterdam"),
             "roles": ["abuse"], "objectClassName": "entity"}
        ],
        "links": [
            {"value": q, "rel": "self", "href": self_href},
            {"value": "http://www.ripe.net/data-tools/support/documentation/terms", "rel": "copyright",
             "href": "http://www.ripe.net/data-tools/support/documentation/terms"}
        ],
        "events": events(&n.registered, &n.changed, "Z"),
        "rdapConformance": ["cidr0", "rdap_level_0", "nro_rdap_profile_0"],
        "notices": [
            {"title": "Filtered", "description": ["This output has been filtered."]},
            {"title": "Source", "description": ["Objects returned came from source", suffix]},
            {"title": "Terms and Conditions",
             "description": [format!("This is the {suffix} Database query service. The objects are in RDAP format.")]}
        ],
        "port43": port43(n.registry),
        "objectClassName": "ip network"
    });
    if afrinic {
        v["lang"] = json!("en");
        if let Some(links) = v["links"].as_array_mut() {
            links.truncate(1);
        }
    }
    v
}

fn apnic(n: &Net, parent: Option<&Net>, base: &str, q: &str) -> Value {
    let ty = net_type(n.registry, n.kind);
    let up = parent.map_or_else(|| slash8(n.range.start), |p| p.range.covering_cidr());
    // A top-level network that is a whole /8 names no parent (APNIC never
    // names its 0.0.0.0/0 IANA-BLOCK as one).
    let parent_handle = match parent {
        Some(p) => Some(p.range.to_string()),
        None => (up.range() != n.range).then(|| up.range().to_string()),
    };
    let cc = n.cc.as_deref().unwrap_or("AP");
    let c = contacts(n);
    let mut v = json!({
        "rdapConformance": ["history_version_0", "nro_rdap_profile_0", "cidr0", "rdap_level_0"],
        "notices": [
            {"title": "Source", "description": ["Objects returned came from source", "APNIC"]},
            {"title": "Terms and Conditions",
             "description": ["This is the APNIC WHOIS Database query service. The objects are in RDAP format."],
             "links": [{"value": q, "rel": "terms-of-service",
                        "href": "http://www.apnic.net/db/dbcopyright.html", "type": "text/html"}]}
        ],
        "country": cc,
        "events": events(&n.registered, &n.changed, "Z"),
        "name": n.name,
        "links": [
            {"value": q, "rel": "self", "href": format!("{base}ip/{}", path_of(n.range)), "type": "application/rdap+json"},
            {"value": q, "rel": "up", "href": format!("{base}ip/{up}"), "type": "application/rdap+json"}
        ],
        "status": ["active"],
        "type": ty,
        "endAddress": fmt_addr(n.range.end),
        "ipVersion": "v4",
        "startAddress": fmt_addr(n.range.start),
        "objectClassName": "ip network",
        "handle": n.handle,
        "parentHandle": parent_handle,
        "entities": [
            {"roles": ["abuse"], "vcardArray": vcard(&c.abuse_name, "group", Some(&c.abuse_email), "Brisbane"),
             "objectClassName": "entity", "handle": c.abuse},
            {"roles": ["registrant"], "vcardArray": vcard(&c.org_name, "org", None, "Brisbane"),
             "objectClassName": "entity", "handle": c.org}
        ],
        "cidr0_cidrs": cidr0(n.range),
        "port43": "whois.apnic.net"
    });
    if parent_handle.is_none() {
        if let Some(o) = v.as_object_mut() {
            o.remove("parentHandle");
        }
    }
    v
}

fn lacnic(n: &Net, parent: Option<&Net>, base: &str, q: &str) -> Value {
    let ty = net_type(n.registry, n.kind);
    let parent_handle =
        parent.map_or_else(|| slash8(n.range.start).to_string(), |p| p.handle.clone());
    let cc = n.cc.as_deref().unwrap_or("BR");
    let contact = format!("{}{}", &n.name[..3.min(n.name.len())], n.holder % 97 + 1);
    let email = format!("abuse@{}", dom(&n.name));
    let self_url = format!("{base}ip/{}", n.handle);
    json!({
        "objectClassName": "ip network",
        "handle": n.handle,
        "startAddress": fmt_addr(n.range.start),
        "endAddress": fmt_addr(n.range.end),
        "ipVersion": "v4",
        "cidr0_cidrs": cidr0(n.range),
        "type": ty,
        "parentHandle": parent_handle,
        "status": ["active"],
        "lacnic_originAutnum": "N/A",
        "entities": [
            {"objectClassName": "entity", "handle": format!("{cc}-{}-LACNIC", n.name.replace('-', "").chars().take(6).collect::<String>()),
             "vcardArray": vcard(&n.name, "org", None, "Montevideo"), "roles": ["registrant"]},
            {"objectClassName": "entity", "handle": contact, "roles": ["technical", "abuse"],
             "vcardArray": vcard("NOC", "individual", Some(&email), "Montevideo")}
        ],
        "events": events(&n.registered, &n.changed, "Z"),
        "links": [
            {"value": q, "rel": "self", "href": self_url},
            {"value": q, "rel": "up", "type": "application/rdap+json", "href": format!("{base}ip/{parent_handle}")}
        ],
        "rdapConformance": ["rdap_level_0", "lacnic_level_0", "cidr0"],
        "notices": [
            {"title": "Terms and Conditions", "description": ["This is the LACNIC RDAP service. Objects are in RDAP format."]},
            {"title": "RDAP Cache", "description": ["This object is stored in a temporary cache.", "Rdap objects may take up to 4 hours to refresh."]}
        ],
        "port43": "whois.lacnic.net"
    })
}

/// The body of a placeholder answer.
pub fn placeholder(p: Placeholder, bases: &Bases, q: &str) -> Vec<u8> {
    let (reg, v) = match p {
        Placeholder::RipeManaged(c) => {
            let base = &bases[Registry::Ripe.index()];
            (
                Registry::Ripe,
                json!({
                    "handle": c.range().to_string(),
                    "startAddress": fmt_addr(c.addr()),
                    "endAddress": fmt_addr(c.range().end),
                    "ipVersion": "v4",
                    "name": "RIPE-NCC-MANAGED-ADDRESS-BLOCK",
                    "type": "ALLOCATED UNSPECIFIED",
                    "country": "EU",
                    "parentHandle": "0.0.0.0 - 255.255.255.255",
                    "cidr0_cidrs": cidr0(c.range()),
                    "status": ["administrative"],
                    "remarks": [{"description": ["These addresses are managed by the RIPE NCC.", "They are not yet delegated to any organisation."]}],
                    "links": [{"value": q, "rel": "self", "href": format!("{base}ip/{c}")}],
                    "events": [{"eventAction": "last changed", "eventDate": "2024-01-16T10:31:15Z"}],
                    "rdapConformance": ["cidr0", "rdap_level_0", "nro_rdap_profile_0"],
                    "notices": [{"title": "Source", "description": ["Objects returned came from source", "RIPE"]}],
                    "port43": "whois.ripe.net",
                    "objectClassName": "ip network"
                }),
            )
        }
        Placeholder::ApnicAp(c) => {
            let base = &bases[Registry::Apnic.index()];
            (
                Registry::Apnic,
                json!({
                    "country": "AU",
                    "events": [{"eventAction": "registration", "eventDate": "2010-08-06T02:02:23Z"},
                               {"eventAction": "last changed", "eventDate": "2023-09-05T01:46:02Z"}],
                    "name": "APNIC-AP",
                    "remarks": [{"description": ["Asia Pacific Network Information Centre",
                                                 "Regional Internet Registry for the Asia-Pacific Region"], "title": "description"}],
                    "links": [{"value": q, "rel": "self", "href": format!("{base}ip/{c}"), "type": "application/rdap+json"}],
                    "status": ["administrative"],
                    "type": "ALLOCATED PORTABLE",
                    "ipVersion": "v4",
                    "endAddress": fmt_addr(c.range().end),
                    "startAddress": fmt_addr(c.addr()),
                    "objectClassName": "ip network",
                    "handle": c.range().to_string(),
                    "entities": [{"roles": ["abuse"], "handle": "IRT-APNIC-AP", "objectClassName": "entity",
                                  "vcardArray": vcard("IRT-APNIC-AP", "group", Some("helpdesk@apnic.net"), "Brisbane, Australia")}],
                    "cidr0_cidrs": cidr0(c.range()),
                    "port43": "whois.apnic.net",
                    "rdapConformance": ["history_version_0", "nro_rdap_profile_0", "cidr0", "rdap_level_0"]
                }),
            )
        }
        Placeholder::ApnicIana => {
            let base = &bases[Registry::Apnic.index()];
            (
                Registry::Apnic,
                json!({
                    "country": "AU",
                    "events": [{"eventAction": "registration", "eventDate": "2018-02-06T08:07:12Z"},
                               {"eventAction": "last changed", "eventDate": "2008-09-04T06:51:49Z"}],
                    "name": "IANA-BLOCK",
                    "remarks": [{"description": ["General placeholder reference for all IPv4 addresses"], "title": "description"},
                                {"description": ["If your query does not return an address range more specific than 0.0.0.0 - 255.255.255.255,",
                                                 "it means the address is not administered by any RIR."], "title": "remarks"}],
                    "links": [{"value": q, "rel": "self", "href": format!("{base}ip/0.0.0.0/0"), "type": "application/rdap+json"}],
                    "type": "ALLOCATED PORTABLE",
                    "ipVersion": "v4",
                    "endAddress": "255.255.255.255",
                    "startAddress": "0.0.0.0",
                    "objectClassName": "ip network",
                    "handle": "0.0.0.0 - 255.255.255.255",
                    "entities": [{"roles": ["abuse"], "handle": "IRT-APNIC-AP", "objectClassName": "entity",
                                  "vcardArray": vcard("IRT-APNIC-AP", "group", Some("helpdesk@apnic.net"), "Brisbane, Australia")}],
                    "cidr0_cidrs": [{"v4prefix": "0.0.0.0", "length": 0}],
                    "port43": "whois.apnic.net",
                    "rdapConformance": ["history_version_0", "nro_rdap_profile_0", "cidr0", "rdap_level_0"]
                }),
            )
        }
        Placeholder::AfrinicIana => {
            let base = &bases[Registry::Afrinic.index()];
            (
                Registry::Afrinic,
                json!({
                    "rdapConformance": ["rdap_level_0", "nro_rdap_profile_0", "cidr0"],
                    "notices": [{"title": "ABOUT", "description": ["This is the AfriNIC RDAP server."]}],
                    "lang": "en",
                    "remarks": [{"title": "Remark", "description": ["The country is really worldwide."]},
                                {"title": "Remark", "description": ["This address space is assigned at various other places in"]},
                                {"title": "Remark", "description": ["the world and might therefore not be in the RIPE database."]}],
                    "links": [{"value": q, "rel": "self", "href": format!("{base}ip/0.0.0.0 - 255.255.255.255")}],
                    "handle": "0.0.0.0 - 255.255.255.255",
                    "events": [{"eventAction": "registration"}, {"eventAction": "last changed"}],
                    "status": ["reserved"],
                    "port43": "whois.afrinic.net",
                    "name": "ORG-IANA1-AFRINIC",
                    "type": "ALLOCATED UNSPECIFIED",
                    "country": "EU",
                    "entities": [{"handle": "ORG-IANA1-AFRINIC", "roles": ["registrant"], "objectClassName": "entity",
                                  "vcardArray": vcard("Internet Assigned Numbers Authority", "org", Some("bitbucket@ripe.net"), "see http://www.iana.org")}],
                    "startAddress": "0.0.0.0",
                    "endAddress": "255.255.255.255",
                    "ipVersion": "v4",
                    "parentHandle": "0.0.0.0 - 255.255.255.255",
                    "cidr0_cidrs": [{"v4prefix": "0.0.0.0", "length": 0}],
                    "objectClassName": "ip network"
                }),
            )
        }
    };
    to_bytes(reg, &v)
}

/// An RDAP error body (`errorCode`, `title`, `description`) in the registry's style
/// (APNIC writes `errorCode` as a string).
pub fn error(r: Registry, code: u16, title: &str, description: &str) -> Vec<u8> {
    let code_v = if r == Registry::Apnic {
        json!(code.to_string())
    } else {
        json!(code)
    };
    let mut v = json!({
        "rdapConformance": ["rdap_level_0"],
        "errorCode": code_v,
        "title": title,
        "description": [description]
    });
    if r != Registry::Lacnic {
        v["port43"] = json!(port43(r));
    }
    to_bytes(r, &v)
}

/// LACNIC's 429 body: an error object carrying a "Rate Limit Notice".
pub fn rate_limit_notice() -> Vec<u8> {
    let v = json!({
        "rdapConformance": ["rdap_level_0", "lacnic_level_0"],
        "notices": [{"title": "Rate Limit Notice",
                     "description": ["Too many requests. The query limit for your address has been exceeded; try again later."]}],
        "errorCode": 429,
        "title": "Rate Limit Notice",
        "description": ["Too many requests."]
    });
    to_bytes(Registry::Lacnic, &v)
}

/// The `rdapConformance` values RFC 9910 relation searches add.
pub const SEARCH_CONFORMANCE: [&str; 3] = ["rirSearch1", "ips", "ipSearchResults"];

/// Appends [`SEARCH_CONFORMANCE`] to `v`'s `rdapConformance`.
fn add_search_conformance(v: &mut Value) {
    if let Some(c) = v.get_mut("rdapConformance").and_then(Value::as_array_mut) {
        c.extend(SEARCH_CONFORMANCE.map(Value::from));
    }
}

/// An `rdap-up`/`rdap-top` answer: network `i` as a lookup answers it, its
/// conformance listing the search extensions.
pub fn search_network(model: &Model, i: u32, bases: &Bases, query_url: &str) -> Vec<u8> {
    let mut v = network_value(model, i, bases, query_url);
    add_search_conformance(&mut v);
    to_bytes(model.nets[i as usize].registry, &v)
}

/// Each registry's conformance outside a network answer (help, search results).
fn base_conformance(r: Registry) -> &'static [&'static str] {
    match r {
        Registry::Arin => &[
            "nro_rdap_profile_0",
            "rdap_level_0",
            "arin_originas0",
            "cidr0",
        ],
        Registry::Ripe => &[
            "cidr0",
            "rdap_level_0",
            "nro_rdap_profile_0",
            "nro_rdap_profile_asn_flat_0",
            "redacted",
            "geofeed1",
        ],
        Registry::Apnic => &[
            "history_version_0",
            "nro_rdap_profile_0",
            "cidr0",
            "rdap_level_0",
        ],
        Registry::Lacnic => &["rdap_level_0", "lacnic_level_0", "cidr0"],
        Registry::Afrinic => &["rdap_level_0", "nro_rdap_profile_0", "cidr0"],
    }
}

/// Each registry's notices outside a network answer.
fn base_notices(r: Registry, q: &str) -> Value {
    match r {
        Registry::Arin => json!([
            {"title": "Terms of Service",
             "description": ["By using the ARIN RDAP/Whois service, you are agreeing to the RDAP/Whois Terms of Use"],
             "links": [{"value": q, "rel": "terms-of-service", "type": "text/html",
                        "href": "https://www.arin.net/resources/registry/whois/tou/"}]},
            {"title": "Whois Inaccuracy Reporting",
             "description": ["If you see inaccuracies in the results, please visit: "],
             "links": [{"value": q, "rel": "inaccuracy-report", "type": "text/html",
                        "href": "https://www.arin.net/resources/registry/whois/inaccuracy_reporting/"}]},
            {"title": "Copyright Notice",
             "description": ["Copyright 1997-2026, American Registry for Internet Numbers, Ltd."]}
        ]),
        Registry::Ripe | Registry::Afrinic => {
            let src = if r == Registry::Ripe {
                "RIPE"
            } else {
                "AFRINIC"
            };
            json!([
                {"title": "Source", "description": ["Objects returned came from source", src]},
                {"title": "Terms and Conditions",
                 "description": [format!("This is the {src} Database query service. The objects are in RDAP format.")]}
            ])
        }
        Registry::Apnic => json!([
            {"title": "Source", "description": ["Objects returned came from source", "APNIC"]},
            {"title": "Terms and Conditions",
             "description": ["This is the APNIC WHOIS Database query service. The objects are in RDAP format."],
             "links": [{"value": q, "rel": "terms-of-service",
                        "href": "http://www.apnic.net/db/dbcopyright.html", "type": "text/html"}]}
        ]),
        Registry::Lacnic => json!([
            {"title": "Terms and Conditions", "description": ["This is the LACNIC RDAP service. Objects are in RDAP format."]}
        ]),
    }
}

/// A server's `help` answer; its conformance lists the search extensions
/// when it serves RIR search.
pub fn help(r: Registry, search: bool, q: &str) -> Vec<u8> {
    let mut c: Vec<&str> = base_conformance(r).to_vec();
    if search {
        c.extend(SEARCH_CONFORMANCE);
    }
    let v = json!({"rdapConformance": c, "notices": base_notices(r, q)});
    to_bytes(r, &v)
}

/// The RFC 9083 §10.2.1 notice on a cut result set.
fn truncated_notice(max: usize) -> Value {
    json!({
        "title": "Search results truncated",
        "type": "result set truncated due to excessive load",
        "description": [format!("Only the first {max} results are listed; search a smaller range for the rest.")]
    })
}

/// An `rdap-down`/`rdap-bottom` answer of `r`'s server: `ipSearchResults`
/// holds networks `nets` as lookups render them, without the members only a
/// top-level object carries (`rdapConformance`, `notices`); `truncated_at`
/// adds the truncation notice. Written piece by piece: a full set is tens of MB.
pub fn search_results(
    r: Registry,
    model: &Model,
    nets: &[u32],
    bases: &Bases,
    q: &str,
    truncated_at: Option<usize>,
) -> Vec<u8> {
    let mut conformance: Vec<&str> = base_conformance(r).to_vec();
    conformance.extend(SEARCH_CONFORMANCE);
    let mut notices = base_notices(r, q);
    if let (Some(max), Some(a)) = (truncated_at, notices.as_array_mut()) {
        a.push(truncated_notice(max));
    }
    let mut out = b"{\"rdapConformance\":".to_vec();
    out.extend(serde_json::to_vec(&conformance).unwrap_or_default());
    out.extend(b",\"notices\":");
    out.extend(serde_json::to_vec(&notices).unwrap_or_default());
    out.extend(b",\"ipSearchResults\":[");
    for (k, &i) in nets.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        let mut v = network_value(model, i, bases, q);
        if let Some(m) = v.as_object_mut() {
            m.remove("rdapConformance");
            m.remove("notices");
        }
        out.extend(to_bytes(r, &v));
    }
    out.extend(b"]}");
    out
}

/// ARIN's administrative /8 (`NET-149-0-0-0-0`, "NET149", status
/// `administrative`, no type, no parent), as its `rdap-top` answers without
/// `?status=active` (modelled on `tests/fixtures/rdap/search/arin-rdap-top-149.112.152.0_22.json`).
pub fn arin_admin_block(block: Cidr, bases: &Bases, q: &str) -> Vec<u8> {
    let a = block.addr() >> 24;
    let handle = format!("NET-{a}-0-0-0-0");
    let base = &bases[Registry::Arin.index()];
    let mut conformance: Vec<&str> = vec![
        "nro_rdap_profile_0",
        "rdap_level_0",
        "cidr0",
        "arin_originas0",
    ];
    conformance.extend(SEARCH_CONFORMANCE);
    let adr = "PO Box 232290\nCentreville\nVA\n20120\nUnited States";
    let v = json!({
        "rdapConformance": conformance,
        "notices": base_notices(Registry::Arin, q),
        "handle": handle,
        "startAddress": fmt_addr(block.addr()),
        "endAddress": fmt_addr(block.range().end),
        "ipVersion": "v4",
        "name": format!("NET{a}"),
        "events": [
            {"eventAction": "last changed", "eventDate": "2013-12-30T13:28:42-05:00"},
            {"eventAction": "registration", "eventDate": "1993-05-01T00:00:00-04:00"}
        ],
        "links": [
            {"value": q, "rel": "self", "type": "application/rdap+json",
             "href": format!("{base}ip/{}", fmt_addr(block.addr()))},
            {"value": q, "rel": "alternate", "type": "application/xml",
             "href": format!("https://whois.arin.net/rest/net/{handle}")}
        ],
        "entities": [{
            "handle": "VR-ARIN",
            "vcardArray": vcard("Various Registries (Maintained by ARIN)", "org", None, adr),
            "roles": ["registrant"],
            "remarks": [{"title": "Registration Comments",
                         "description": ["Address space was assigned by the InterNIC regardless of\r",
                                         "geographic region.  The registrations are now being maintained\r",
                                         "by various registries, and the in-addr.arpa delegations are\r",
                                         "being maintained by ARIN."]}],
            "links": [{"value": q, "rel": "self", "type": "application/rdap+json",
                       "href": format!("{base}entity/VR-ARIN")}],
            "port43": "whois.arin.net",
            "objectClassName": "entity"
        }],
        "port43": "whois.arin.net",
        "status": ["administrative"],
        "objectClassName": "ip network",
        "cidr0_cidrs": cidr0(block.range()),
        "arin_originas0_originautnums": []
    });
    to_bytes(Registry::Arin, &v)
}
