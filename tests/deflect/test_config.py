import textwrap

import pytest

from deflect.configuration import load_config
from deflect.core.config import ConfigError


def write(tmp_path, text):
    path = tmp_path / "deflect.yaml"
    path.write_text(textwrap.dedent(text))
    return path


VALID = """
warehouse: duckdb:///wh.duckdb
landing_dir: landing
person_key_secret_env: DEFLECT_PERSON_KEY
max_file_bytes: 1000
sources:
  - name: tracs-isp
    kind: tracs
    url: sftp://deflect@127.0.0.1:2222/exports/tracs/IL0849800
    host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB"
    key_file: keys/id_ed25519
  - name: meg-sieg
    kind: meg
    unit: SIEG
    url: file://replay/SIEG
"""


def test_paths_are_relative_to_the_file(tmp_path):
    cfg = load_config(write(tmp_path, VALID))
    assert cfg.landing_dir == tmp_path / "landing"
    assert cfg.warehouse == f"duckdb://{tmp_path}/wh.duckdb"
    tracs, meg = cfg.sources
    assert tracs.key_file == tmp_path / "keys" / "id_ed25519"
    assert (tracs.host, tracs.port, tracs.username, tracs.path) == (
        "127.0.0.1", 2222, "deflect", "/exports/tracs/IL0849800")
    assert meg.url == f"file://{tmp_path}/replay/SIEG" and meg.path == f"{tmp_path}/replay/SIEG"
    assert cfg.max_file_bytes == 1000


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'colour'"):
        load_config(write(tmp_path, VALID + "colour: blue\n"))
    bad_source = VALID.replace("    unit: SIEG\n", "    unit: SIEG\n    pasword: x\n")
    with pytest.raises(ConfigError, match=r"sources\[1\]: unknown key 'pasword'"):
        load_config(write(tmp_path, bad_source))


def test_sftp_needs_a_pinned_host_key(tmp_path):
    text = VALID.replace('    host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB"\n', "")
    with pytest.raises(ConfigError, match="pinned 'host_key'"):
        load_config(write(tmp_path, text))


def test_meg_needs_unit_and_secret_variable_is_named(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="needs 'unit'"):
        load_config(write(tmp_path, VALID.replace("    unit: SIEG\n", "")))
    cfg = load_config(write(tmp_path, VALID.replace("DEFLECT_PERSON_KEY", "NOT_SET_ANYWHERE")))
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE is not set"):
        cfg.person_key_secret()


@pytest.mark.parametrize("line, key", [
    ("max_file_bytes: abc", "max_file_bytes"),
    ("max_file_bytes: -1", "max_file_bytes"),
    ("file_shards: 1.5", "file_shards"),
])
def test_a_value_of_the_wrong_type_names_its_key(tmp_path, line, key):
    text = VALID.replace("max_file_bytes: 1000", line)
    with pytest.raises(ConfigError, match=rf"deflect.yaml: {key}: "):
        load_config(write(tmp_path, text))


def test_a_source_value_of_the_wrong_type_names_its_source_and_key(tmp_path):
    text = VALID.replace("    unit: SIEG\n", "    unit: SIEG\n    retries: many\n")
    with pytest.raises(ConfigError, match=r"sources\[1\]\.retries: "):
        load_config(write(tmp_path, text))


def test_an_unknown_kind_names_the_kinds_there_are(tmp_path):
    with pytest.raises(ConfigError, match=r"sources\[1\]\.kind: must be one of tracs, meg"):
        load_config(write(tmp_path, VALID.replace("kind: meg", "kind: rms")))


@pytest.mark.parametrize("name", ["../../../../outside", "a/b", ".hidden", "", "x" * 65])
def test_a_source_name_that_is_not_a_plain_name_is_refused(tmp_path, name):
    with pytest.raises(ConfigError, match=r"sources\[0\]\.name: a source name is"):
        load_config(write(tmp_path, VALID.replace("name: tracs-isp", f"name: '{name}'")))


CONN = """
warehouse: duckdb:///wh.duckdb
landing_dir: landing
person_key_secret_env: DEFLECT_PERSON_KEY
sources:
  - name: tracs-isp
    kind: tracs
    conn_id: tracs_sftp
    url: sftp:///exports/tracs/IL0849800
"""


def test_a_conn_id_source_names_the_directory_only_and_needs_no_host_key(tmp_path):
    (source,) = load_config(write(tmp_path, CONN)).sources
    assert (source.conn_id, source.path, source.host, source.host_key) == (
        "tracs_sftp", "/exports/tracs/IL0849800", None, None)


@pytest.mark.parametrize("change, message", [
    (("sftp:///exports", "sftp://deflect@tracs.example/exports"), "remote directory only"),
    (("conn_id: tracs_sftp\n", "conn_id: tracs_sftp\n    host_key: ssh-ed25519 AAAA\n"),
     "remove 'host_key' and 'key_file'"),
    (("sftp:///exports/tracs/IL0849800", "file:///exports"), "'conn_id' is for sftp://"),
    (("conn_id: tracs_sftp", "conn_id: tracs-sftp"), "a conn_id is 1-250 letters"),
])
def test_a_conn_id_source_refuses_a_second_place_for_the_server(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, CONN.replace(*change)))


def test_a_contacts_file_is_relative_to_the_configuration_and_read_by_stewardship(tmp_path):
    from stewardship.contacts import contacts_of, load_contacts

    assert load_config(write(tmp_path, VALID)).contacts_file is None
    cfg = load_config(write(tmp_path, "contacts_file: people/contacts.yaml\n" + VALID))
    assert cfg.contacts_file == tmp_path / "people" / "contacts.yaml"
    with pytest.raises(ConfigError, match="no such contacts file"):
        contacts_of(cfg)
    (tmp_path / "people").mkdir()
    cfg.contacts_file.write_text(textwrap.dedent("""
        units:
          sieg: {name: Records desk, email: records@sieg.example, phone: "+1 217 555 0101"}
          ISP: {name: TraCS export operator}
    """))
    contacts = contacts_of(cfg)
    assert sorted(contacts) == ["ISP", "SIEG"]
    assert (contacts["SIEG"].name, contacts["SIEG"].phone) == ("Records desk", "+1 217 555 0101")
    assert contacts["ISP"].email is None
    cfg.contacts_file.write_text("units: {SIEG: {name: a}, sieg: {name: b}}")
    with pytest.raises(ConfigError, match="unit SIEG is listed twice"):
        load_contacts(cfg.contacts_file)
    cfg.contacts_file.write_text("units: {SIEG: {name: a, fax: 1}}")
    with pytest.raises(ConfigError, match="units.SIEG.fax"):
        load_contacts(cfg.contacts_file)


def test_the_demo_ships_a_fictional_contact_for_every_unit_it_reads(tmp_path):
    import importlib.util
    from pathlib import Path

    import yaml

    from stewardship.contacts import load_contacts

    script = Path(__file__).resolve().parents[2] / "scripts" / "demo_config.py"
    spec = importlib.util.spec_from_file_location("demo_config", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sources = [{"name": "tracs-isp", "kind": "tracs"},
               {"name": "meg-sieg", "kind": "meg", "unit": "SIEG"},
               {"name": "meg-vmeg", "kind": "meg", "unit": "VMEG"}]
    path = tmp_path / "contacts.yaml"
    path.write_text(yaml.safe_dump(module.demo_contacts(sources)))
    contacts = load_contacts(path)
    assert sorted(contacts) == ["ISP", "SIEG", "VMEG"]
    assert all(c.email.endswith(".example") and " 555 01" in c.phone for c in contacts.values())


def test_publication_keys_have_defaults_and_are_checked(tmp_path):
    cfg = load_config(write(tmp_path, VALID))
    assert (cfg.protection_width, cfg.statutory_lag_days) == (5, 45)
    assert cfg.publish_dir == tmp_path / "published"
    cfg = load_config(write(tmp_path, VALID + "protection_width: 3\nstatutory_lag_days: 30\n"
                                              "publish_dir: out/pub\n"))
    assert (cfg.protection_width, cfg.statutory_lag_days) == (3, 30)
    assert cfg.publish_dir == tmp_path / "out" / "pub"
    with pytest.raises(ConfigError, match="protection_width"):
        load_config(write(tmp_path, VALID + "protection_width: 0\n"))
