"""Small mutations of the spec examples, validated through the registry with positions."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from lxml import etree

from adapters.meg_reports.adapter import SCHEMAS as MEG
from adapters.tracs.adapter import SCHEMAS as TRACS
from schemas.registry import SchemaError, get_schema, validate

TRACS_NS, MEG_NS = TRACS.namespace, MEG.namespace
BY_NAMESPACE = {TRACS_NS: TRACS, MEG_NS: MEG}

EXAMPLES = Path(__file__).parent / "examples"
TRACS_EXAMPLE = EXAMPLES / "tracs-incident-export-1.1.xml"
MEG_EXAMPLE = EXAMPLES / "meg-case-activity-export-2.0.xml"
NSMAP = {"t": TRACS_NS, "m": MEG_NS}

_PARSER = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)


def parse(data: bytes):
    return etree.fromstring(data, _PARSER).getroottree()


def serialize(tree) -> bytes:
    return etree.tostring(tree, xml_declaration=True, encoding=tree.docinfo.encoding or "UTF-8")


def tracs_1_0(tree):
    """The 1.1 example as a 1.0 document: version 1.0, no 1.1-only element."""
    tree.getroot().set("schemaVersion", "1.0")
    for el in tree.getroot().iterfind(".//t:deflectionCoResponderType", NSMAP):
        el.getparent().remove(el)
    return tree


def meg_full(tree):
    """The MEG example with the optional Deflection children it leaves out."""
    outcome = tree.getroot().find(".//m:Outcome", NSMAP)
    ns = MEG_NS
    outcome.addprevious(etree.Element(f"{{{ns}}}ProsecutorSubmission", Date="2027-01-10",
                                      Office="Williamson County State's Attorney"))
    outcome.addprevious(etree.Element(f"{{{ns}}}EvidenceDisposal", Date="2027-01-12",
                                      Method="DESTROYED"))
    return tree


def load(name: str):
    """A fresh tree of an example: 'tracs' (1.1), 'tracs10' (1.0), 'meg' or 'megfull'."""
    if name in ("meg", "megfull"):
        tree = parse(MEG_EXAMPLE.read_bytes())
        return meg_full(tree) if name == "megfull" else tree
    tree = parse(TRACS_EXAMPLE.read_bytes())
    return tracs_1_0(tree) if name == "tracs10" else tree


# the schema each example is checked against: a mutated version attribute must not pick another
DOC_VERSION = {"tracs": "1.1", "tracs10": "1.0", "meg": "2.0", "megfull": "2.0"}


def mutated(name: str, xpath: str, mutation) -> bytes:
    tree = load(name)
    found = tree.getroot().xpath(xpath, namespaces=NSMAP)
    assert len(found) == 1, f"{xpath} matches {len(found)} elements"
    mutation(found[0])
    return serialize(tree)


def check(data: bytes, version: str) -> list[SchemaError]:
    """Schema errors of `data` against the schema of its namespace at `version`."""
    tree = parse(data)
    entry = get_schema(BY_NAMESPACE[etree.QName(tree.getroot()).namespace], version)
    return validate(tree, entry, source=data)


def named(err: SchemaError) -> set[str]:
    """Element names an error points at: its subject, and the ones it says were expected."""
    names = {err.element} if err.element else set()
    _, _, expected = err.message.partition("Expected is")
    names.update(re.findall(r"\{[^}]*\}([A-Za-z_][\w.-]*)", expected))
    return names


# -- mutations ------------------------------------------------------------------------------------

def text(value: str):
    def m(el):
        el.text = value
    return m


def attr(name: str, value: str):
    def m(el):
        el.set(name, value)
    return m


def drop_attr(name: str):
    def m(el):
        del el.attrib[name]
    return m


def drop():
    def m(el):
        parent = el.getparent()
        prev = el.getprevious()
        if el.tail:  # keep the layout
            if prev is not None:
                prev.tail = (prev.tail or "") + el.tail
            else:
                parent.text = (parent.text or "") + el.tail
        parent.remove(el)
    return m


def dup():
    def m(el):
        el.addnext(copy.deepcopy(el))
    return m


def swap_with_next():
    def m(el):
        nxt = el.getnext()
        assert nxt is not None
        nxt.addnext(el)
    return m


def append(fragment: str, first: bool = False):
    """Append (or insert first) elements written in the document's default namespace."""
    def m(el):
        ns = etree.QName(el).namespace
        wrapper = etree.fromstring(f'<w xmlns="{ns}">{fragment}</w>', _PARSER)
        kids = list(wrapper)
        if first:
            for k in reversed(kids):
                el.insert(0, k)
        else:
            for k in kids:
                el.append(k)
        if not kids:
            el.text = (el.text or "") + (wrapper.text or "")
    return m


def clear_children():
    def m(el):
        for c in list(el):
            el.remove(c)
        el.text = None
    return m


# -- case tables ------------------------------------------------------------------------------------
# A bad case breaks one rule of a spec table and must fail with an error that names the element
# (and the attribute, for attribute rules) at a line and column. A good case must stay valid.



def bad(case_id, doc, xpath, mutation, element, attribute=None):
    return pytest.param(doc, xpath, mutation, element, attribute, id=case_id)


def good(case_id, doc, xpath, mutation):
    return pytest.param(doc, xpath, mutation, id=case_id)


def leaf_cases(doc, parent, element, prefix, *, blankable, bad_values=(), good_values=(),
               optional=False):
    """Cases for one leaf element of a table: presence, blank, whitespace-only, values."""
    xp = f"{parent}/{prefix}:{element}"
    bads, goods = [], []
    if optional:
        goods.append(good(f"{element}-absent", doc, xp, drop()))
    else:
        bads.append(bad(f"{element}-missing", doc, xp, drop(), element))
    bads.append(bad(f"{element}-dup", doc, xp, dup(), element))
    bads.append(bad(f"{element}-whitespace-only", doc, xp, text("  "), element))
    bads.append(bad(f"{element}-child-element", doc, xp, append("<x/>"), element))
    if blankable:
        goods.append(good(f"{element}-blank", doc, xp, text("")))
    else:
        bads.append(bad(f"{element}-blank", doc, xp, text(""), element))
    for i, v in enumerate(bad_values):
        bads.append(bad(f"{element}-bad{i}:{v[:24]!r}", doc, xp, text(v), element))
    for i, v in enumerate(good_values):
        goods.append(good(f"{element}-good{i}:{v[:24]!r}", doc, xp, text(v)))
    return bads, goods


def attr_cases(doc, xpath, name, *, required=True, bad_values=(), good_values=()):
    """Cases for one attribute: presence, blank, whitespace-only, values."""
    label = xpath.rsplit(":", 1)[-1].split("[")[0]
    bads, goods = [], []
    if required:
        bads.append(bad(f"{label}@{name}-missing", doc, xpath, drop_attr(name), label, name))
    else:
        goods.append(good(f"{label}@{name}-absent", doc, xpath, drop_attr(name)))
    bads.append(bad(f"{label}@{name}-blank", doc, xpath, attr(name, ""), label, name))
    bads.append(bad(f"{label}@{name}-whitespace-only", doc, xpath, attr(name, "  "), label, name))
    for i, v in enumerate(bad_values):
        bads.append(bad(f"{label}@{name}-bad{i}:{v[:24]!r}", doc, xpath, attr(name, v), label, name))
    for i, v in enumerate(good_values):
        goods.append(good(f"{label}@{name}-good{i}:{v[:24]!r}", doc, xpath, attr(name, v)))
    return bads, goods


def collect(*pairs):
    bads, goods = [], []
    for b, g in pairs:
        bads += b
        goods += g
    return bads, goods


def assert_fails_naming(data: bytes, element: str, attribute: str | None, version: str):
    errors = check(data, version)
    assert errors, "expected a schema error"
    hits = [e for e in errors if element in named(e)
            and (attribute is None or e.attribute == attribute)]
    assert hits, f"no error names {element}@{attribute}: {[e.message for e in errors]}"
    e = hits[0]
    assert e.line and e.line > 0 and e.column and e.column > 0, e
    assert e.path and e.path.startswith("/"), e


def assert_valid(data: bytes, version: str):
    errors = check(data, version)
    assert errors == [], [e.message for e in errors]
