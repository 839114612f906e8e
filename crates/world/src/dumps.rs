//! Bulk dumps of the world's networks in each registry's RPSL style
//! (`ipcrawl world --dumps DIR`): RIPE NCC's split files
//! (`ripe.db.inetnum.gz`, `ripe.db.organisation.gz`, `ripe.db.role.gz`),
//! APNIC's (`apnic.db.inetnum.gz`, `apnic.db.irt.gz`, `apnic.db.role.gz`,
//! `apnic.db.organisation.gz`) and AFRINIC's single `afrinic.db.gz`. ARIN and
//! LACNIC publish no such dumps: nothing is written for them.
//!
//! **Agreement with the RDAP answers.** Read with the project's dump reader
//! (`ipcrawl_core::dump`), each registry's files give exactly the networks
//! that parsing its RDAP answers ([`crate::render`]) gives — handle, name,
//! type, country, parent handle, registrant (handle, name, e-mail), abuse
//! e-mail, registration, last changed, placeholder flag — for every network
//! the registry holds, transferred-in blocks included (they belong to the
//! holder's dump). Entity names and e-mails are functions of their handles
//! ([`crate::render::contacts`]), so one organisation, role or irt object
//! serves every network naming it. The placeholders the RDAP servers answer
//! (RIPE's /8 `RIPE-NCC-MANAGED-ADDRESS-BLOCK`, APNIC's `APNIC-AP` /8s and
//! `IANA-BLOCK`, AFRINIC's `ORG-IANA1-AFRINIC`) are objects too, and the
//! parents the answers name exist as objects: RIPE's
//! `0.0.0.0 - 255.255.255.255` `IANA-BLK` root, a /8 object for every /8 in
//! the scope (and for every other /8 the registry holds a block in: RIPE's
//! `NON-RIPE-NCC-MANAGED-ADDRESS-BLOCK`, APNIC's `ERX-NETBLOCK`, AFRINIC's
//! `AFRINIC-NON-MANAGED` ones).
//!
//! **Style**, after the real excerpts in `tests/fixtures/dumps/`: each
//! file's header comment (APNIC's with the dump timestamp
//! `# YYYYMMDD HH:MM:SS`, the epoch's date); values in column 17 (RIPE NCC,
//! APNIC) or 15 (AFRINIC); RIPE's dummified contacts (`DUMY-RIPE`, `Dummy
//! address for …`), its `remarks: * THIS OBJECT IS MODIFIED` block and `%
//! Tags relating to '…'` lines; AFRINIC's continuation lines, `changed:`
//! lines with obfuscated addresses (`***@afrinic.net`), e-mails written
//! `***@domain` and some lower-case countries; APNIC's `mnt-irt` (which the
//! reader prefers over `abuse-c`, as APNIC's RDAP does).
//!
//! Where the world departs from the real files, for the agreement above:
//! APNIC objects carry `created:` (the real ones have none, while APNIC's
//! RDAP answers have a registration date); organisations carry no `e-mail:`
//! (the world's RDAP registrants have none); AFRINIC's `abuse-mailbox:` is
//! not obfuscated (its RDAP abuse e-mail is not either).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;

use ipcrawl_core::prefix::{Cidr, Range};
use ipcrawl_core::rdap::Registry;

use super::epoch::{compact, epoch_date};
use super::model::{Kind, Model, Net};
use super::render::{contacts, dom, net_type, Contacts, CHANGED_AT, REGISTERED_AT};

/// One dump file.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DumpFile {
    /// `ripe.db.inetnum.gz`.
    RipeInetnum,
    /// `ripe.db.organisation.gz`.
    RipeOrganisation,
    /// `ripe.db.role.gz`.
    RipeRole,
    /// `apnic.db.inetnum.gz`.
    ApnicInetnum,
    /// `apnic.db.irt.gz`.
    ApnicIrt,
    /// `apnic.db.role.gz`.
    ApnicRole,
    /// `apnic.db.organisation.gz`.
    ApnicOrganisation,
    /// `afrinic.db.gz` (every class in one file).
    Afrinic,
}

impl DumpFile {
    /// Every file, RIPE NCC's first.
    pub const ALL: [DumpFile; 8] = [
        DumpFile::RipeInetnum,
        DumpFile::RipeOrganisation,
        DumpFile::RipeRole,
        DumpFile::ApnicInetnum,
        DumpFile::ApnicIrt,
        DumpFile::ApnicRole,
        DumpFile::ApnicOrganisation,
        DumpFile::Afrinic,
    ];

    /// The real file name.
    pub fn name(self) -> &'static str {
        match self {
            DumpFile::RipeInetnum => "ripe.db.inetnum.gz",
            DumpFile::RipeOrganisation => "ripe.db.organisation.gz",
            DumpFile::RipeRole => "ripe.db.role.gz",
            DumpFile::ApnicInetnum => "apnic.db.inetnum.gz",
            DumpFile::ApnicIrt => "apnic.db.irt.gz",
            DumpFile::ApnicRole => "apnic.db.role.gz",
            DumpFile::ApnicOrganisation => "apnic.db.organisation.gz",
            DumpFile::Afrinic => "afrinic.db.gz",
        }
    }

    /// The registry whose dump it is.
    pub fn registry(self) -> Registry {
        match self {
            DumpFile::RipeInetnum | DumpFile::RipeOrganisation | DumpFile::RipeRole => {
                Registry::Ripe
            }
            DumpFile::Afrinic => Registry::Afrinic,
            _ => Registry::Apnic,
        }
    }

    /// The files of one registry (none for ARIN and LACNIC).
    pub fn of(r: Registry) -> Vec<DumpFile> {
        DumpFile::ALL
            .into_iter()
            .filter(|f| f.registry() == r)
            .collect()
    }
}

// ---------------------------------------------------------------- text

/// Appends `name: value` with the value in column `width + 1`.
fn attr(out: &mut String, width: usize, name: &str, value: &str) {
    out.push_str(name);
    out.push(':');
    let pad = width.saturating_sub(name.len() + 1).max(1);
    out.extend(std::iter::repeat_n(' ', pad));
    out.push_str(value);
    out.push('\n');
}

/// A continuation line (AFRINIC): the value under the previous one.
fn cont(out: &mut String, width: usize, value: &str) {
    out.extend(std::iter::repeat_n(' ', width));
    out.push_str(value);
    out.push('\n');
}

const RIPE_DUMMY: &str = "\
remarks:        ****************************
remarks:        * THIS OBJECT IS MODIFIED
remarks:        * Please note that all data that is generally regarded as personal
remarks:        * data has been removed from this object.
remarks:        * To view the original object, please query the RIPE Database at:
remarks:        * http://www.ripe.net/whois
remarks:        ****************************
";

fn header(file: DumpFile, epoch: u32) -> String {
    match file.registry() {
        Registry::Apnic => format!(
            "#\n# {} 03:15:02\n#\n# Copyright (c) 1994-1998 APNIC Ltd.\n# Copyright (c) 1998-{} APNIC Pty. Ltd.\n#\n# Restricted rights.\n#\n# Except for agreed Internet operational purposes, no part of this\n# publication may be reproduced, stored in a retrieval system, or\n# transmitted, in any form or by any means, electronic, mechanical,\n# recording, or otherwise, without prior permission of APNIC on\n# behalf of the copyright holders. Any use of this material to\n# target advertising or similar activities are explicitly forbidden\n# and will be prosecuted. APNIC requests to be notified of any such\n# activities or suspicions thereof.\n#\n\n",
            compact(&epoch_date(epoch)),
            epoch_date(epoch).get(..4).unwrap_or("2026")
        ),
        Registry::Afrinic => "#\n# The contents of this file are subject to\n# AFRINIC Database Terms and Conditions\n#\n# http://www.afrinic.net/en/services\n#\n\n".to_string(),
        _ => "#\n# The contents of this file are subject to\n# RIPE Database Terms and Conditions\n#\n# http://www.ripe.net/db/support/db-terms-conditions.pdf\n#\n\n".to_string(),
    }
}

// ---------------------------------------------------------------- the view

/// A placeholder or parent object the RDAP answers name (root and /8s).
#[derive(Clone, Debug)]
struct Frame {
    range: Range,
    /// Whether the bootstrap gives the /8 to the dump's registry.
    own: bool,
}

/// What a registry's dump holds, in address order.
struct View<'a> {
    model: &'a Model,
    r: Registry,
    /// /8 objects (not equal to a network of the registry).
    frames: Vec<Frame>,
    /// Indices of the registry's networks, pre-order.
    nets: Vec<u32>,
}

impl<'a> View<'a> {
    fn new(model: &'a Model, r: Registry) -> View<'a> {
        let nets: Vec<u32> = (0..model.nets.len() as u32)
            .filter(|&i| model.nets[i as usize].registry == r)
            .collect();
        let mut slash8s: BTreeSet<u32> = BTreeSet::new();
        for s in &model.scope {
            for a in (s.start >> 24)..=(s.end >> 24) {
                if model.bootstrap.registry(a << 24) == Some(r) {
                    slash8s.insert(a);
                }
            }
        }
        let tops: BTreeSet<Range> = nets
            .iter()
            .map(|&i| &model.nets[i as usize])
            .filter(|n| n.depth == 0)
            .map(|n| {
                slash8s.insert(n.range.start >> 24);
                n.range
            })
            .collect();
        let frames = slash8s
            .into_iter()
            .map(|a| Cidr::new_masked(a << 24, 8).range())
            .filter(|range| !tops.contains(range))
            .map(|range| Frame {
                range,
                own: model.bootstrap.registry(range.start) == Some(r),
            })
            .collect();
        View {
            model,
            r,
            frames,
            nets,
        }
    }

    fn net(&self, i: u32) -> &Net {
        &self.model.nets[i as usize]
    }

    /// The block's top-level network.
    fn top_of(&self, i: u32) -> &Net {
        let mut n = self.net(i);
        while let Some(p) = n.parent {
            n = &self.model.nets[p as usize];
        }
        n
    }

    /// Frames and networks interleaved in address order (a frame before
    /// the networks inside it).
    fn objects(&self) -> impl Iterator<Item = Obj<'_>> + '_ {
        let mut f = 0;
        let mut k = 0;
        std::iter::from_fn(move || {
            let frame = self.frames.get(f);
            let net = self.nets.get(k).copied();
            match (frame, net) {
                (Some(fr), Some(i)) if fr.range.start > self.net(i).range.start => {
                    k += 1;
                    Some(Obj::Net(i))
                }
                (Some(fr), _) => {
                    f += 1;
                    Some(Obj::Frame(fr))
                }
                (None, Some(i)) => {
                    k += 1;
                    Some(Obj::Net(i))
                }
                (None, None) => None,
            }
        })
    }
}

/// One inetnum of a dump: a root-or-/8 frame or a network.
enum Obj<'a> {
    Frame(&'a Frame),
    Net(u32),
}

fn ts(date: &str, at: &str) -> String {
    format!("{date}{at}Z")
}

/// A maintainer name for a block's holder.
fn mnt(c: &Contacts) -> String {
    let id = c
        .org
        .trim_start_matches("ORG-")
        .rsplit_once('-')
        .map_or(c.org.as_str(), |(a, _)| a);
    format!("{id}-MNT")
}

/// Handle of an APNIC organisation's admin/tech role and its abuse role.
fn apnic_roles(c: &Contacts) -> (String, String) {
    let id = c
        .org
        .trim_start_matches("ORG-")
        .trim_end_matches("-AP")
        .to_string();
    (format!("NT{id}-AP"), format!("AA{id}-AP"))
}

// ---------------------------------------------------------------- RIPE

fn ripe_root(out: &mut String) {
    out.push_str(
        "inetnum:        0.0.0.0 - 255.255.255.255
netname:        IANA-BLK
descr:          The whole IPv4 address space
country:        EU # Country is really world wide
org:            ORG-IANA1-RIPE
admin-c:        DUMY-RIPE
tech-c:         DUMY-RIPE
status:         ALLOCATED UNSPECIFIED
remarks:        The country is really worldwide.
remarks:        This address space is assigned at various other places in
remarks:        the world and might therefore not be in the RIPE database.
mnt-by:         RIPE-NCC-HM-MNT
mnt-lower:      RIPE-NCC-HM-MNT
mnt-routes:     RIPE-NCC-RPSL-MNT
created:        2002-06-25T14:19:09Z
last-modified:  2019-01-07T10:49:33Z
source:         RIPE
",
    );
    out.push_str(RIPE_DUMMY);
    out.push('\n');
}

fn ripe_frame(out: &mut String, f: &Frame) {
    let w = 16;
    attr(out, w, "inetnum", &f.range.to_string());
    if f.own {
        attr(out, w, "netname", "RIPE-NCC-MANAGED-ADDRESS-BLOCK");
        attr(
            out,
            w,
            "descr",
            "IPv4 address block managed by the RIPE NCC",
        );
        attr(
            out,
            w,
            "remarks",
            "These addresses are managed by the RIPE NCC.",
        );
        attr(
            out,
            w,
            "remarks",
            "They are not yet delegated to any organisation.",
        );
    } else {
        attr(out, w, "netname", "NON-RIPE-NCC-MANAGED-ADDRESS-BLOCK");
        attr(
            out,
            w,
            "descr",
            "IPv4 address block not managed by the RIPE NCC",
        );
        attr(out, w, "remarks", "For registration information,");
        attr(out, w, "remarks", "you can consult the following sources:");
        attr(
            out,
            w,
            "remarks",
            "IANA http://www.iana.org/assignments/ipv4-address-space",
        );
    }
    attr(
        out,
        w,
        "country",
        "EU # Country field is actually all countries in the world and not just EU countries",
    );
    attr(out, w, "admin-c", "DUMY-RIPE");
    attr(out, w, "tech-c", "DUMY-RIPE");
    attr(out, w, "status", "ALLOCATED UNSPECIFIED");
    attr(out, w, "mnt-by", "RIPE-NCC-HM-MNT");
    attr(out, w, "last-modified", RIPE_MANAGED_CHANGED);
    attr(out, w, "source", "RIPE");
    out.push_str(RIPE_DUMMY);
    out.push('\n');
}

/// `last changed` of RIPE's managed-block placeholder answer.
const RIPE_MANAGED_CHANGED: &str = "2024-01-16T10:31:15Z";

fn ripe_inetnum(out: &mut String, v: &View<'_>, i: u32) {
    let n = v.net(i);
    let c = contacts(n);
    let top = contacts(v.top_of(i));
    let w = 16;
    attr(out, w, "inetnum", &n.range.to_string());
    attr(out, w, "netname", &n.name);
    if n.depth == 0 {
        attr(out, w, "descr", &c.org_name);
    }
    attr(out, w, "country", n.cc.as_deref().unwrap_or("EU"));
    attr(out, w, "org", &c.org);
    attr(out, w, "admin-c", "DUMY-RIPE");
    attr(out, w, "tech-c", "DUMY-RIPE");
    attr(out, w, "abuse-c", &c.abuse);
    attr(out, w, "status", net_type(n.registry, n.kind));
    if n.depth == 0 && n.kind != Kind::Legacy {
        attr(out, w, "mnt-by", "RIPE-NCC-HM-MNT");
    } else if n.kind == Kind::Legacy {
        attr(out, w, "mnt-by", "RIPE-NCC-LEGACY-MNT");
    }
    attr(out, w, "mnt-by", &mnt(&top));
    if n.depth == 0 {
        attr(out, w, "mnt-lower", &mnt(&top));
    }
    attr(out, w, "created", &ts(&n.registered, REGISTERED_AT));
    attr(out, w, "last-modified", &ts(&n.changed, CHANGED_AT));
    attr(out, w, "source", "RIPE");
    out.push_str(RIPE_DUMMY);
    out.push('\n');
    let tag = if n.depth == 0 {
        "RIPE-REGISTRY-RESOURCE"
    } else {
        "RIPE-USER-RESOURCE"
    };
    let _ = write!(out, "% Tags relating to '{}'\n% {tag}\n\n", n.range);
}

// ---------------------------------------------------------------- APNIC

/// Dates of APNIC's placeholder answers (see `render::placeholder`).
const APNIC_AP_CREATED: &str = "2010-08-06T02:02:23Z";
const APNIC_AP_CHANGED: &str = "2023-09-05T01:46:02Z";
const IANA_BLOCK_CREATED: &str = "2018-02-06T08:07:12Z";
const IANA_BLOCK_CHANGED: &str = "2008-09-04T06:51:49Z";

fn apnic_root(out: &mut String) {
    let _ = write!(
        out,
        "inetnum:        0.0.0.0 - 255.255.255.255
netname:        IANA-BLOCK
descr:          General placeholder reference for all IPv4 addresses
country:        AU
admin-c:        HM20-AP
tech-c:         HM20-AP
remarks:        If your query does not return an address range more specific than 0.0.0.0 - 255.255.255.255,
remarks:        it means the address is not administered by any RIR.
status:         ALLOCATED PORTABLE
mnt-by:         APNIC-HM
mnt-lower:      APNIC-HM
mnt-irt:        IRT-APNIC-AP
created:        {IANA_BLOCK_CREATED}
last-modified:  {IANA_BLOCK_CHANGED}
source:         APNIC

"
    );
}

fn apnic_frame(out: &mut String, f: &Frame) {
    let w = 16;
    attr(out, w, "inetnum", &f.range.to_string());
    if f.own {
        attr(out, w, "netname", "APNIC-AP");
        attr(out, w, "descr", "Asia Pacific Network Information Centre");
        attr(
            out,
            w,
            "descr",
            "Regional Internet Registry for the Asia-Pacific Region",
        );
    } else {
        attr(out, w, "netname", "ERX-NETBLOCK");
        attr(out, w, "descr", "Early registration addresses");
    }
    attr(out, w, "country", "AU");
    attr(out, w, "admin-c", "HM20-AP");
    attr(out, w, "tech-c", "NO4-AP");
    attr(out, w, "status", "ALLOCATED PORTABLE");
    attr(out, w, "mnt-by", "APNIC-HM");
    attr(out, w, "mnt-lower", "APNIC-HM");
    attr(out, w, "mnt-irt", "IRT-APNIC-AP");
    attr(out, w, "created", APNIC_AP_CREATED);
    attr(out, w, "last-modified", APNIC_AP_CHANGED);
    attr(out, w, "source", "APNIC");
    out.push('\n');
}

fn apnic_inetnum(out: &mut String, v: &View<'_>, i: u32) {
    let n = v.net(i);
    let c = contacts(n);
    let top = contacts(v.top_of(i));
    let (nt, aa) = apnic_roles(&c);
    let w = 16;
    attr(out, w, "inetnum", &n.range.to_string());
    attr(out, w, "netname", &n.name);
    attr(out, w, "descr", &c.org_name);
    attr(out, w, "country", n.cc.as_deref().unwrap_or("AP"));
    attr(out, w, "org", &c.org);
    attr(out, w, "admin-c", &nt);
    attr(out, w, "tech-c", &nt);
    attr(out, w, "abuse-c", &aa);
    attr(out, w, "status", net_type(n.registry, n.kind));
    if n.depth == 0 {
        attr(out, w, "mnt-by", "APNIC-HM");
        attr(out, w, "mnt-lower", &format!("MAINT-{}", mnt(&top)));
        attr(out, w, "mnt-routes", &format!("MAINT-{}", mnt(&top)));
    } else {
        attr(out, w, "mnt-by", &format!("MAINT-{}", mnt(&top)));
    }
    attr(out, w, "mnt-irt", &c.abuse);
    attr(out, w, "created", &ts(&n.registered, REGISTERED_AT));
    attr(out, w, "last-modified", &ts(&n.changed, CHANGED_AT));
    attr(out, w, "source", "APNIC");
    out.push('\n');
}

// ---------------------------------------------------------------- AFRINIC

fn afrinic_root(out: &mut String) {
    out.push_str(
        "inetnum:      0.0.0.0 - 255.255.255.255
netname:      IANA-BLK
descr:        The whole IPv4 address space
org:          ORG-IANA1-AFRINIC
country:      EU
admin-c:      IANA1-AFRINIC
tech-c:       IANA1-AFRINIC
status:       ALLOCATED UNSPECIFIED
remarks:      The country is really worldwide.
remarks:      This address space is assigned at various other places in
              the world and might therefore not be in the RIPE database.
mnt-by:       AFRINIC-HM-MNT
mnt-lower:    AFRINIC-HM-MNT
changed:      ***@ripe.net 20040315
remarks:      data has been transferred from RIPE Whois Database 20050221
source:       AFRINIC

organisation: ORG-IANA1-AFRINIC
org-name:     Internet Assigned Numbers Authority
org-type:     IANA
address:      see http://www.iana.org
mnt-ref:      AFRINIC-HM-MNT
mnt-by:       AFRINIC-HM-MNT
changed:      ***@afrinic.net 20050101
source:       AFRINIC

",
    );
}

fn afrinic_frame(out: &mut String, f: &Frame) {
    let w = 14;
    attr(out, w, "inetnum", &f.range.to_string());
    if f.own {
        attr(out, w, "netname", "AFRINIC-ALLOCATION-BLOCK");
        attr(out, w, "descr", "IPv4 address block managed by AFRINIC");
    } else {
        attr(out, w, "netname", "AFRINIC-NON-MANAGED");
        attr(out, w, "descr", "IPv4 address block not managed by AFRINIC");
    }
    cont(out, w, "Not delegated to any organisation.");
    attr(out, w, "country", "ZZ");
    attr(out, w, "admin-c", "TEAM-AFRINIC");
    attr(out, w, "tech-c", "TEAM-AFRINIC");
    attr(out, w, "status", "ALLOCATED UNSPECIFIED");
    attr(out, w, "mnt-by", "AFRINIC-HM-MNT");
    attr(out, w, "source", "AFRINIC");
    out.push('\n');
}

fn afrinic_inetnum(out: &mut String, v: &View<'_>, i: u32) {
    let n = v.net(i);
    let c = contacts(n);
    let top = contacts(v.top_of(i));
    let w = 14;
    attr(out, w, "inetnum", &n.range.to_string());
    attr(out, w, "netname", &n.name);
    attr(out, w, "descr", &c.org_name);
    if n.depth == 0 {
        cont(out, w, "Internet Service Provider");
    }
    let cc = n.cc.as_deref().unwrap_or("EU");
    // AFRINIC's files carry some lower-case countries.
    let cc = if n.holder % 16 == 3 {
        cc.to_ascii_lowercase()
    } else {
        cc.to_string()
    };
    attr(out, w, "country", &cc);
    attr(out, w, "org", &c.org);
    attr(out, w, "admin-c", "TEAM-AFRINIC");
    attr(out, w, "tech-c", "TEAM-AFRINIC");
    attr(out, w, "abuse-c", &c.abuse);
    attr(out, w, "status", net_type(n.registry, n.kind));
    if n.depth == 0 {
        attr(out, w, "mnt-by", "AFRINIC-HM-MNT");
        attr(out, w, "mnt-lower", &mnt(&top));
    } else {
        attr(out, w, "mnt-by", &mnt(&top));
    }
    if n.registered.as_str() < "2016" {
        let _ = writeln!(
            out,
            "changed:      ***@afrinic.net {}",
            compact(&n.registered)
        );
    }
    attr(out, w, "created", &ts(&n.registered, REGISTERED_AT));
    attr(out, w, "last-modified", &ts(&n.changed, CHANGED_AT));
    attr(out, w, "source", "AFRINIC");
    out.push('\n');
}

// ---------------------------------------------------------------- contacts

/// An organisation the dump must define: id → (name, country, date).
type Orgs = BTreeMap<String, (String, String, String)>;
/// An abuse contact (role or irt): handle → (name, mailbox, date, org id).
type Roles = BTreeMap<String, (String, String, String, String)>;

fn collect(v: &View<'_>) -> (Orgs, Roles) {
    let mut orgs = Orgs::new();
    let mut roles = Roles::new();
    for &i in &v.nets {
        let n = v.net(i);
        let c = contacts(n);
        let cc = n.cc.clone().unwrap_or_else(|| "EU".into());
        orgs.entry(c.org.clone())
            .or_insert_with(|| (c.org_name.clone(), cc, n.registered.clone()));
        roles
            .entry(c.abuse.clone())
            .or_insert_with(|| (c.abuse_name, c.abuse_email, n.registered.clone(), c.org));
    }
    (orgs, roles)
}

fn organisation(
    out: &mut String,
    r: Registry,
    id: &str,
    (name, cc, date): &(String, String, String),
) {
    let (w, source, hm) = match r {
        Registry::Afrinic => (14, "AFRINIC", "AFRINIC-HM-MNT"),
        Registry::Apnic => (16, "APNIC", "APNIC-HM"),
        _ => (16, "RIPE", "RIPE-NCC-HM-MNT"),
    };
    attr(out, w, "organisation", id);
    attr(out, w, "org-name", name);
    attr(out, w, "org-type", "LIR");
    attr(out, w, "country", cc);
    if r == Registry::Ripe {
        attr(out, w, "address", &format!("Dummy address for {id}"));
        attr(out, w, "admin-c", "DUMY-RIPE");
    } else {
        attr(out, w, "address", "Not published");
        if r == Registry::Afrinic {
            cont(out, w, cc);
        }
    }
    attr(out, w, "mnt-ref", hm);
    attr(out, w, "mnt-by", hm);
    attr(out, w, "created", &ts(date, REGISTERED_AT));
    attr(out, w, "last-modified", &ts(date, CHANGED_AT));
    attr(out, w, "source", source);
    if r == Registry::Ripe {
        out.push_str(RIPE_DUMMY);
    }
    out.push('\n');
}

fn ripe_role(
    out: &mut String,
    id: &str,
    (name, mailbox, date, _): &(String, String, String, String),
) {
    let w = 16;
    attr(out, w, "role", name);
    attr(out, w, "address", &format!("Dummy address for {id}"));
    attr(out, w, "phone", "+31205354444");
    attr(out, w, "nic-hdl", id);
    attr(out, w, "abuse-mailbox", mailbox);
    attr(out, w, "mnt-by", "RIPE-NCC-HM-MNT");
    attr(out, w, "created", &ts(date, REGISTERED_AT));
    attr(out, w, "last-modified", &ts(date, CHANGED_AT));
    attr(out, w, "source", "RIPE");
    out.push_str(RIPE_DUMMY);
    out.push('\n');
}

fn afrinic_role(
    out: &mut String,
    id: &str,
    (name, mailbox, date, _): &(String, String, String, String),
) {
    let w = 14;
    let domain = mailbox.split_once('@').map_or("afrinic.net", |(_, d)| d);
    attr(out, w, "role", name);
    attr(out, w, "address", "Not published");
    attr(out, w, "e-mail", &format!("***@{domain}"));
    attr(out, w, "abuse-mailbox", mailbox);
    attr(out, w, "admin-c", "TEAM-AFRINIC");
    attr(out, w, "tech-c", "TEAM-AFRINIC");
    attr(out, w, "nic-hdl", id);
    attr(out, w, "mnt-by", "AFRINIC-HM-MNT");
    let _ = writeln!(out, "changed:      ***@{domain} {}", compact(date));
    attr(out, w, "source", "AFRINIC");
    out.push('\n');
}

fn apnic_irt(
    out: &mut String,
    id: &str,
    (_, mailbox, date, org): &(String, String, String, String),
) {
    let w = 16;
    let (nt, _) = apnic_roles(&Contacts {
        org: org.clone(),
        org_name: String::new(),
        abuse: String::new(),
        abuse_name: String::new(),
        abuse_email: String::new(),
    });
    attr(out, w, "irt", id);
    attr(out, w, "address", "Brisbane");
    attr(out, w, "e-mail", mailbox);
    attr(out, w, "abuse-mailbox", mailbox);
    attr(out, w, "admin-c", &nt);
    attr(out, w, "tech-c", &nt);
    attr(out, w, "auth", "# Filtered");
    attr(out, w, "mnt-by", "APNIC-HM");
    attr(out, w, "last-modified", &ts(date, CHANGED_AT));
    attr(out, w, "source", "APNIC");
    out.push('\n');
}

fn apnic_org_roles(out: &mut String, id: &str, (name, _, date): &(String, String, String)) {
    let w = 16;
    let (nt, aa) = apnic_roles(&Contacts {
        org: id.to_string(),
        org_name: String::new(),
        abuse: String::new(),
        abuse_name: String::new(),
        abuse_email: String::new(),
    });
    let domain = dom(name);
    for (handle, role, abuse) in [(nt, "Network Team", false), (aa, "Abuse", true)] {
        attr(out, w, "role", &format!("{name} {role}"));
        attr(out, w, "address", "Not published");
        attr(out, w, "country", "AP");
        attr(out, w, "phone", "+61-7-3858-3100");
        attr(out, w, "e-mail", &format!("noc@{domain}"));
        if abuse {
            attr(out, w, "abuse-mailbox", &format!("abuse@{domain}"));
        }
        attr(out, w, "nic-hdl", &handle);
        attr(out, w, "mnt-by", "APNIC-HM");
        attr(out, w, "last-modified", &ts(date, CHANGED_AT));
        attr(out, w, "source", "APNIC");
        out.push('\n');
    }
}

// ---------------------------------------------------------------- files

/// Writes `file` as plain text (not compressed) to `w`, for `model`.
pub fn write_plain(model: &Model, file: DumpFile, w: &mut dyn Write) -> io::Result<()> {
    let v = View::new(model, file.registry());
    let mut out = header(file, model.epoch);
    let flush = |out: &mut String, w: &mut dyn Write| -> io::Result<()> {
        if out.len() >= 1 << 16 {
            w.write_all(out.as_bytes())?;
            out.clear();
        }
        Ok(())
    };
    match file {
        DumpFile::RipeInetnum | DumpFile::ApnicInetnum => {
            if file == DumpFile::RipeInetnum {
                ripe_root(&mut out);
            } else {
                apnic_root(&mut out);
            }
            for o in v.objects() {
                match (file, o) {
                    (DumpFile::RipeInetnum, Obj::Frame(f)) => ripe_frame(&mut out, f),
                    (DumpFile::RipeInetnum, Obj::Net(i)) => ripe_inetnum(&mut out, &v, i),
                    (_, Obj::Frame(f)) => apnic_frame(&mut out, f),
                    (_, Obj::Net(i)) => apnic_inetnum(&mut out, &v, i),
                }
                flush(&mut out, w)?;
            }
        }
        DumpFile::RipeOrganisation | DumpFile::ApnicOrganisation => {
            let (orgs, _) = collect(&v);
            if file == DumpFile::RipeOrganisation {
                let iana = (
                    "Internet Assigned Numbers Authority".to_string(),
                    "US".to_string(),
                    "2004-04-17".to_string(),
                );
                organisation(&mut out, v.r, "ORG-IANA1-RIPE", &iana);
            }
            for (id, o) in &orgs {
                organisation(&mut out, v.r, id, o);
                flush(&mut out, w)?;
            }
        }
        DumpFile::RipeRole => {
            out.push_str("role:           Dummy Role\naddress:        Dummy address for DUMY-RIPE\nnic-hdl:        DUMY-RIPE\nmnt-by:         RIPE-DBM-MNT\nsource:         RIPE\n");
            out.push_str(RIPE_DUMMY);
            out.push('\n');
            let (_, roles) = collect(&v);
            for (id, r) in &roles {
                ripe_role(&mut out, id, r);
                flush(&mut out, w)?;
            }
        }
        DumpFile::ApnicIrt => {
            out.push_str("irt:            IRT-APNIC-AP\naddress:        Brisbane, Australia\ne-mail:         helpdesk@apnic.net\nabuse-mailbox:  helpdesk@apnic.net\nadmin-c:        HM20-AP\ntech-c:         NO4-AP\nauth:           # Filtered\nmnt-by:         APNIC-HM\nsource:         APNIC\n\n");
            let (_, irts) = collect(&v);
            for (id, r) in &irts {
                apnic_irt(&mut out, id, r);
                flush(&mut out, w)?;
            }
        }
        DumpFile::ApnicRole => {
            let (orgs, _) = collect(&v);
            for (id, o) in &orgs {
                apnic_org_roles(&mut out, id, o);
                flush(&mut out, w)?;
            }
        }
        DumpFile::Afrinic => write_afrinic(&v, &mut out, w)?,
    }
    w.write_all(out.as_bytes())
}

/// AFRINIC's one file: each organisation and role right after the first
/// inetnum naming it.
fn write_afrinic(v: &View<'_>, out: &mut String, w: &mut dyn Write) -> io::Result<()> {
    afrinic_root(out);
    let (orgs, roles) = collect(v);
    let mut done_orgs: BTreeSet<&str> = BTreeSet::new();
    let mut done_roles: BTreeSet<&str> = BTreeSet::new();
    for o in v.objects() {
        match o {
            Obj::Frame(f) => afrinic_frame(out, f),
            Obj::Net(i) => {
                afrinic_inetnum(out, v, i);
                let c = contacts(v.net(i));
                if let Some((id, org)) = orgs.get_key_value(&c.org) {
                    if done_orgs.insert(id) {
                        organisation(out, Registry::Afrinic, id, org);
                    }
                }
                if let Some((id, role)) = roles.get_key_value(&c.abuse) {
                    if done_roles.insert(id) {
                        afrinic_role(out, id, role);
                    }
                }
            }
        }
        if out.len() >= 1 << 16 {
            w.write_all(out.as_bytes())?;
            out.clear();
        }
    }
    Ok(())
}

/// `file` for `model`, gzip-compressed (as published).
pub fn render(model: &Model, file: DumpFile) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    // Writing into memory cannot fail.
    let _ = write_plain(model, file, &mut enc);
    enc.finish().unwrap_or_default()
}

/// Writes one gzip file; returns its size.
fn write_file(model: &Model, file: DumpFile, path: &Path) -> io::Result<u64> {
    let f = std::fs::File::create(path)?;
    let mut enc = GzEncoder::new(io::BufWriter::new(f), Compression::default());
    write_plain(model, file, &mut enc)?;
    let mut buf = enc.finish()?;
    buf.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// Writes the eight files into `dir` (created if missing), on as many
/// threads as there are cores (compression is most of the work; the two
/// inetnum files are the largest, so they go first); returns each path with
/// its (compressed) size, in [`DumpFile::ALL`] order.
pub fn write_dir(model: &Model, dir: &Path) -> io::Result<Vec<(PathBuf, u64)>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    std::fs::create_dir_all(dir)?;
    let order = [
        DumpFile::RipeInetnum,
        DumpFile::ApnicInetnum,
        DumpFile::ApnicIrt,
        DumpFile::RipeRole,
        DumpFile::RipeOrganisation,
        DumpFile::ApnicRole,
        DumpFile::ApnicOrganisation,
        DumpFile::Afrinic,
    ];
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(order.len());
    let next = AtomicUsize::new(0);
    type Written = (DumpFile, io::Result<(PathBuf, u64)>);
    let done: Mutex<Vec<Written>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while let Some(&file) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let path = dir.join(file.name());
                    let r = write_file(model, file, &path).map(|size| (path, size));
                    if let Ok(mut d) = done.lock() {
                        d.push((file, r));
                    }
                }
            });
        }
    });
    let mut done = done
        .into_inner()
        .map_err(|_| io::Error::other("a dump writer thread panicked"))?;
    if done.len() != order.len() {
        return Err(io::Error::other("a dump writer thread panicked"));
    }
    done.sort_by_key(|(f, _)| *f);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests;
