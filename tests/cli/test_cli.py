import json
import subprocess
import sys

from typer.testing import CliRunner

from cli import app

runner = CliRunner()


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from cli import app; "
        "heavy = {'torch', 'chromadb', 'sentence_transformers', 'transformers', 'bm25s'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ingest_then_search_json(tiny_catalog, tiny_config, monkeypatch):
    monkeypatch.setenv("AISLE_INDEX_DIR", str(tiny_config.index_dir))
    monkeypatch.setenv("AISLE_TEXT_MODEL", tiny_config.text_model)
    result = runner.invoke(app, ["ingest", str(tiny_catalog), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["indexed"] == 5 and report["missing_images"][0]["image"] == "missing.png"

    result = runner.invoke(
        app,
        [
            "search",
            "jacket",
            "--filter",
            "price_max=80",
            "-f",
            "color!=yellow",
            "-k",
            "3",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["filters"] == {"price_max": 80.0, "exclude_facets": {"color": ["yellow"]}}
    ids = [r["id"] for r in payload["results"]]
    assert "J1" in ids and "H1" not in ids  # H1 comes only in yellow
    assert all(r["price"] <= 80 for r in payload["results"])
    assert all("signals" in r for r in payload["results"])

    photo = tiny_catalog.parent / "images" / "b1.png"
    result = runner.invoke(app, ["search", "--image", str(photo), "--json"])
    assert json.loads(result.stdout)["results"][0]["id"] == "B1"


def test_user_errors_are_named_without_a_traceback(
    tmp_path, tiny_catalog, tiny_config, monkeypatch
):
    monkeypatch.setenv("AISLE_INDEX_DIR", str(tmp_path / "none"))
    result = runner.invoke(app, ["search", "jacket"])
    assert result.exit_code == 2 and "no index in" in result.stderr
    assert "Traceback" not in result.output

    result = runner.invoke(app, ["ingest", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2 and "catalog file not found" in result.stderr

    monkeypatch.setenv("AISLE_INDEX_DIR", str(tiny_config.index_dir))
    monkeypatch.setenv("AISLE_TEXT_MODEL", tiny_config.text_model)
    assert runner.invoke(app, ["ingest", str(tiny_catalog), "--quiet"]).exit_code == 0
    result = runner.invoke(app, ["search", "jacket", "-f", "matrial=wool"])
    assert result.exit_code == 2 and "unknown key 'matrial'" in result.stderr
    result = runner.invoke(
        app, ["ingest", str(tiny_catalog), "--quiet", "--chroma-url", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 2
    assert "Chroma server http://127.0.0.1:9 is not reachable" in result.stderr


def test_settings_read_env_and_toml(tmp_path, monkeypatch):
    from assistant.config import Settings

    toml = tmp_path / "aisle.toml"
    toml.write_text('text_model = "mpnet"\nbatch_size = 8\n')
    monkeypatch.setenv("AISLE_CONFIG", str(toml))
    monkeypatch.setenv("AISLE_BATCH_SIZE", "16")
    settings = Settings()
    assert settings.text_model == "mpnet" and settings.batch_size == 16  # env beats the file
    assert settings.with_overrides(text_model="minilm", image_model=None).text_model == "minilm"


def test_ingest_reports_odd_rows_and_prints_markup_as_text(tmp_path, tiny_config, monkeypatch):
    monkeypatch.setenv("AISLE_INDEX_DIR", str(tiny_config.index_dir))
    monkeypatch.setenv("AISLE_TEXT_MODEL", tiny_config.text_model)
    path = tmp_path / "odd.jsonl"
    rows = [
        {"id": "m[/]", "title": "Mug [/] with [bold]markup", "price": 4},
        {"id": "k", "title": "Kettle", "price": 20},
    ]
    path.write_text(
        "\ufeff"
        + "\n".join(json.dumps(r) for r in rows)
        + '\n{"id": "x[/]", "title": "[red]Bad", "review_count": 1e400}\n'
    )
    result = runner.invoke(app, ["ingest", str(path), "--image-model", "none"])
    assert result.exit_code == 0, result.output
    assert "line 3" in result.output and "review_count" in result.output
    result = runner.invoke(app, ["search", "mug"])
    assert result.exit_code == 0, result.output
    assert "[/]" in result.output and "[bold]" in result.output  # shown, not interpreted


def test_ingest_check_says_ok_then_names_a_broken_part(tiny_catalog, tiny_config, monkeypatch):
    import numpy as np

    from retrieval.index import ProductIndex

    monkeypatch.setenv("AISLE_INDEX_DIR", str(tiny_config.index_dir))
    monkeypatch.setenv("AISLE_TEXT_MODEL", tiny_config.text_model)
    assert runner.invoke(app, ["ingest", str(tiny_catalog), "--quiet"]).exit_code == 0
    result = runner.invoke(app, ["ingest", "--check"])
    assert result.exit_code == 0 and "OK" in result.output, result.output
    folder = ProductIndex(tiny_config).gen_dir / "vectors"
    np.save(folder / "has_image.npy", np.load(folder / "has_image.npy")[:-1])
    result = runner.invoke(app, ["ingest", "--check", "--json"])
    assert result.exit_code == 1
    assert any("photo flags" in p for p in json.loads(result.stdout)["problems"])
    assert runner.invoke(app, ["ingest"]).exit_code != 0  # no catalog, no --check: an error


def test_each_chat_run_is_a_new_conversation_unless_resumed(
    tmp_path, tiny_catalog, tiny_config, monkeypatch
):
    monkeypatch.setenv("AISLE_INDEX_DIR", str(tiny_config.index_dir))
    monkeypatch.setenv("AISLE_TEXT_MODEL", tiny_config.text_model)
    # one store for every run, as a user's index folder has
    monkeypatch.setenv("AISLE_CONVERSATION_STORE_URL", f"sqlite:///{tmp_path / 'c.sqlite'}")
    assert runner.invoke(app, ["ingest", str(tiny_catalog)]).exit_code == 0

    def run(text: str, *flags: str):
        script = tmp_path / "turns.jsonl"
        script.write_text(json.dumps({"text": text}) + "\n")
        out = runner.invoke(app, ["chat", "--script", str(script), "--json", "--no-llm", *flags])
        assert out.exit_code == 0, out.output
        session = out.stderr.split("conversation ", 1)[1].split()[0]
        return json.loads(out.stdout.strip().splitlines()[-1])["state"], session

    first, session = run("a jacket under $80")
    assert first["filters"]["price_max"] == 80
    second, other = run("something in cotton")
    assert other != session and second["filters"]["price_max"] is None
    resumed, same = run("in blue", "--session", session)
    assert same == session and resumed["filters"]["price_max"] == 80
    missing = runner.invoke(app, ["chat", "--no-llm", "--session", "nope"], input="")
    assert missing.exit_code == 2 and "no conversation 'nope'" in missing.stderr
