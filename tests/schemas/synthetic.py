"""A synthetic TraCS document of many FieldReports (built from the spec example) for timing."""
import copy

from lxml import etree

from tests.schemas.helpers import NSMAP, load, serialize


def _compact(root) -> None:
    """Drop indentation, as export programs write it."""
    for el in root.iter(etree.Element):
        if len(el):
            el.text = None
        el.tail = None


def tracs_document(forms: int, attachments: bool = False) -> bytes:
    tree = load("tracs")
    root = tree.getroot()
    _compact(root)
    contact = root.find("t:Contact", NSMAP)
    report = contact.find("t:FieldReport", NSMAP)
    if not attachments:
        for att in report.iterfind("t:attachments/t:attachment", NSMAP):
            att.getparent().remove(att)
    root.remove(contact)
    for i in range(forms):
        c = copy.deepcopy(contact)
        c.set("contactId", f"C-26-{i:08d}")
        fr = c.find("t:FieldReport", NSMAP)
        fr.set("formNumber", f"FR-26-{i:07d}")
        fr.find("t:summary/t:summaryReportNumber", NSMAP).text = f"ISP26-{i % 1000000:06d}"
        if not attachments:
            fr.find("t:attachments", NSMAP).text = None
        root.append(c)
    return serialize(etree.ElementTree(root))
