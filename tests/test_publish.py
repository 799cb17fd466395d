"""Publishing: plug-ins, parallel jobs, atomic output, the manifest, locks and links."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from importlib.metadata import EntryPoint
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
from channels_for_tests import FailingChannel, NamesChannel

from pim import Catalogue, ChannelError, ConfigError
from pim.channels.base import Publication
from pim.errors import PublishLockedError
from pim.links import Campaign
from pim.manifest import manifest_schema
from pim.publishing import publish, publish_lock
from pim.registry import _entry_points, channel_names, load_channel

MOMENT = datetime(2026, 12, 1, 10, tzinfo=UTC)


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def check_manifest(out: Path) -> dict[str, object]:
    manifest = json.loads((out / "manifest.json").read_text())
    jsonschema.validate(manifest, manifest_schema())
    for artifact in manifest["artifacts"]:
        data = (out / artifact["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == artifact["sha256"], artifact["path"]
        assert len(data) == artifact["bytes"]
    listed = {a["path"] for a in manifest["artifacts"]}
    on_disk = {k for k in tree(out) if k != "manifest.json" and "/" in k}
    assert on_disk == listed
    return manifest  # type: ignore[no-any-return]


def test_builtin_channels_are_entry_points() -> None:
    assert "web" in channel_names()
    assert load_channel("web").name == "web"
    with pytest.raises(ConfigError, match=r"unknown channel 'nope'; installed: .*web"):
        load_channel("nope")


def test_duplicate_channel_names_are_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    group = "vitrina.channels"
    eps = [
        EntryPoint("web", "pim.channels.web:WebChannel", group),
        EntryPoint("web", "other_package:Web", group),
    ]
    monkeypatch.setattr("pim.registry.entry_points", lambda group: eps)
    _entry_points.cache_clear()
    try:
        with pytest.raises(ChannelError, match="registered twice"):
            channel_names()
    finally:
        monkeypatch.undo()
        _entry_points.cache_clear()


def test_publish_writes_manifest_matching_the_files(example: Catalogue, tmp_path: Path) -> None:
    out = tmp_path / "out"
    manifest = publish(example, ["web", NamesChannel], out=out, jobs=1, context=Publication(MOMENT))
    checked = check_manifest(out)
    assert checked == manifest
    assert {a["channel"] for a in manifest["artifacts"]} == {"web", "names"}
    assert ("web", "de_DE", "VC-V5") in {
        (s["channel"], s["locale"], s["sku"]) for s in manifest["skipped"]
    }
    assert all(s["reason"] == "incomplete: missing description" for s in manifest["skipped"])
    doc = json.loads((out / "web/pl_PL/products/HP-ECHO-RED.json").read_text())
    assert doc["price"]["currency"] == "PLN" and doc["sale"] is not None
    assert not list(tmp_path.glob(".out.staging-*"))


def test_jobs_1_and_2_give_identical_artifacts(example: Catalogue, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    m1 = publish(example, ["web", NamesChannel], out=one, jobs=1, context=Publication(MOMENT))
    m2 = publish(example, ["web", NamesChannel], out=two, jobs=2, context=Publication(MOMENT))
    files1, files2 = tree(one), tree(two)
    del files1["manifest.json"], files2["manifest.json"]
    assert files1 == files2 and len(files1) > 300
    for m in (m1, m2):
        del m["revision"], m["created_at"]
    assert m1 == m2


def test_more_shards_than_workers_give_the_same_publication(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big catalogue is split into up to four SKU ranges per worker (workers take the next
    as they finish one); the parts join into what one job makes."""
    from pim import publishing

    one, many = tmp_path / "one", tmp_path / "many"
    channels = ["web", "feeds", NamesChannel]
    m1 = publish(example, channels, ["de_DE"], out=one, jobs=1, context=Publication(MOMENT))
    monkeypatch.setattr(publishing, "SHARD_PRODUCTS", 2)
    assert publishing.shard_count(2, example.count()) == 8
    steps: list[str] = []
    m8 = publish(
        example,
        channels,
        ["de_DE"],
        out=many,
        jobs=2,
        context=Publication(MOMENT),
        progress=lambda done, total, step: steps.append(step),
    )
    assert sum("feeds/de_DE (shard" in step for step in steps) == 8
    files1, files8 = tree(one), tree(many)
    del files1["manifest.json"], files8["manifest.json"]
    assert files1 == files8 and any(name.endswith("google.xml") for name in files1)
    for m in (m1, m8):
        del m["revision"], m["created_at"]
    assert m1 == m8


def test_sku_ranges_of_given_sizes_cover_every_product_once(example: Catalogue) -> None:
    """The last shard of each worker is half the size of the others (the workers end
    closer together); the ranges hold every product once, in order, as their sizes say."""
    from pim import publishing

    assert publishing.shard_sizes(2, 2) == [1, 1]
    assert publishing.shard_sizes(2, 8) == [2, 2, 2, 2, 2, 2, 1, 1]
    skus = [r.sku for r in example.records("product")]
    sizes = [2, 2, 1, 1]
    ranges = example.sku_ranges(4, sizes=sizes)
    held = [[r.sku for r in example.records("product", sku_range=r)] for r in ranges]
    assert [sku for part in held for sku in part] == skus
    for part, size in zip(held, sizes, strict=True):
        assert abs(len(part) - len(skus) * size / 6) <= 1
    with pytest.raises(ValueError, match="4 parts need as many sizes"):
        example.sku_ranges(4, sizes=[1, 1])


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_product_that_cannot_be_resolved_is_named(
    example: Catalogue, tmp_path: Path, jobs: int
) -> None:
    """Views are resolved a batch ahead of rendering: a product whose stored price no import
    would have let in is still the one the error names, and nothing is published."""
    from sqlalchemy import select, update

    from pim.model import product_table

    column, sku = product_table.c["values"], product_table.c.sku
    with example.engine.begin() as conn:
        values = conn.execute(select(column).where(sku == "KT-K15")).scalar_one()
        values["price"][0]["data"][0]["amount"] = "twelve"
        conn.execute(update(product_table).where(sku == "KT-K15").values({column: values}))
    out = tmp_path / "out"
    with pytest.raises(ChannelError) as info:
        publish(example, ["feeds"], ["de_DE"], out=out, jobs=jobs, context=Publication(MOMENT))
    err = info.value
    assert (err.channel, err.locale, err.sku) == ("feeds", "de_DE", "KT-K15")
    assert "product KT-K15 cannot be resolved: InvalidOperation" in str(err)
    assert not out.exists()


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failing_job_leaves_the_previous_publication(
    example: Catalogue, tmp_path: Path, jobs: int
) -> None:
    out = tmp_path / "out"
    publish(example, ["web"], out=out, jobs=1, context=Publication(MOMENT))
    before = tree(out)
    with pytest.raises(ChannelError) as info:
        publish(example, ["web", FailingChannel], out=out, jobs=jobs, context=Publication(MOMENT))
    err = info.value
    assert (err.channel, err.sku) == ("failing", "KT-K15") and err.locale
    assert "ValueError: the printer caught fire" in str(err)
    assert f"channel failing, locale {err.locale}, sku KT-K15" in str(err)
    assert tree(out) == before
    assert not list(tmp_path.glob(".out.staging-*"))


def test_an_interrupted_publish_leaves_the_previous_publication(
    example: Catalogue, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    publish(example, ["web"], out=out, jobs=1, context=Publication(MOMENT))
    before = tree(out)
    with pytest.raises(KeyboardInterrupt):
        publish(
            example,
            [FailingChannel],
            out=out,
            jobs=1,
            context=Publication(MOMENT),
            options={"failing": {"interrupt": True}},
        )
    assert tree(out) == before
    assert not list(tmp_path.glob(".out.staging-*"))


def test_other_channels_are_carried_forward(example: Catalogue, tmp_path: Path) -> None:
    out = tmp_path / "out"
    publish(example, ["web"], out=out, jobs=1, context=Publication(MOMENT))
    (out / "catalogue-notes.txt").write_text("not ours")
    manifest = publish(example, [NamesChannel], out=out, jobs=1, context=Publication(MOMENT))
    assert {a["channel"] for a in manifest["artifacts"]} == {"web", "names"}
    assert set(manifest["channels"]) == {"web", "names"}
    check_manifest(out)
    assert (out / "catalogue-notes.txt").read_text() == "not ours"


def test_a_second_publish_into_the_same_folder_fails_or_waits(
    example: Catalogue, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with publish_lock(out), pytest.raises(PublishLockedError, match="another publication"):
        publish(example, [NamesChannel], out=out, jobs=1, context=Publication(MOMENT))

    def hold() -> None:
        with publish_lock(out):
            time.sleep(1.0)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.2)
    started = time.monotonic()
    publish(example, [NamesChannel], out=out, jobs=1, context=Publication(MOMENT), wait=10)
    assert time.monotonic() - started >= 0.5
    holder.join()
    check_manifest(out)


def test_links_carry_utm_tags(example: Catalogue, tmp_path: Path) -> None:
    out = tmp_path / "out"
    publish(example, ["web", NamesChannel], out=out, jobs=1, context=Publication(MOMENT))
    for line in (out / "names/de_DE/names.tsv").read_text().splitlines():
        sku, _name, url = line.split("\t")
        parts = urlsplit(url)
        assert parts.netloc == "shop.vitrina.example"
        assert parts.path.startswith("/de_DE/p/") and parts.path.endswith(f"-{sku}/")
        assert parse_qs(parts.query) == {
            "utm_source": ["names"],
            "utm_medium": ["test"],
            "utm_campaign": ["catalogue"],
        }
    doc = json.loads((out / "web/en_US/products/KT-K10.json").read_text())
    query = parse_qs(urlsplit(doc["link"]).query)
    assert query["utm_source"] == ["shopfront"] and query["utm_medium"] == ["web"]
    assert doc["url"] == "https://shop.vitrina.example/en_US/p/electric-kettle-1-0-l-KT-K10/"


@pytest.mark.parametrize(
    ("pattern", "campaign", "extra"),
    [
        ("{base_url}/{locale}/p/{slug}-{sku}/", None, {}),
        ("{base_url}/{language}/{sku}.html", Campaign("w", code="W 26"), {"r": "a&b"}),
    ],
)
def test_a_placements_link_function_gives_its_product_urls(
    pattern: str, campaign: Campaign | None, extra: dict[str, str]
) -> None:
    """A feed's links come from ``product_urls`` (its query encoded once): each one is the
    link ``product_url`` gives, percent-encoding, campaign code and extras included."""
    from types import SimpleNamespace

    from pim.links import UTM, LinkBuilder

    links = LinkBuilder("https://b.example/shop/", pattern, campaign, extra)
    utm = UTM("google", "cpc", content="google")
    url = links.product_urls(utm)
    for sku, slug in [("KT-K10", "kettle"), ("A/B ü", "чайник-ü"), ("x?y#z", "")]:
        view = SimpleNamespace(locale="pl_PL", slug=slug, sku=sku)
        assert url(view) == links.product_url(view, utm)
        assert url(view).startswith("https://b.example/shop/")
        assert "utm_content=google" in url(view)


def test_campaign_links_and_window(example: Catalogue, tmp_path: Path) -> None:
    winter = Campaign("winter", date(2026, 11, 20), date(2027, 1, 6), "WINTER26", "winter-sale")
    out = tmp_path / "out"
    manifest = publish(
        example,
        [NamesChannel],
        out=out,
        jobs=1,
        context=Publication(MOMENT, base_url="https://b.example", campaign=winter),
    )
    assert manifest["context"]["campaign"]["code"] == "WINTER26"
    url = (out / "names/en_US/names.tsv").read_text().splitlines()[0].split("\t")[2]
    assert url.startswith("https://b.example/en_US/p/")
    assert parse_qs(urlsplit(url).query) == {
        "utm_source": ["names"],
        "utm_medium": ["test"],
        "utm_campaign": ["winter-sale"],
        "code": ["WINTER26"],
    }
    with pytest.raises(ConfigError, match="campaign 'winter' runs 2026-11-20 to 2027-01-06"):
        publish(
            example,
            [NamesChannel],
            out=out,
            jobs=1,
            context=Publication(datetime(2027, 2, 1, tzinfo=UTC), campaign=winter),
        )


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"options": {"web": {"nope": 1}}}, "channels.web.nope"),
        ({"options": {"web": {"indent": "sideways"}}}, "channels.web.indent"),
        ({"options": {"web": {"catalogue_channel": "moon"}}}, "channels.web.catalogue_channel"),
        ({"options": {"web": {"audiences": ["alien"]}}}, "channels.web.audiences"),
        ({"locales": ["fr_FR"]}, "locales"),
        ({"channels": ["nope"]}, "channel"),
        (
            {"channels": ["kiosk"], "options": {"kiosk": {"languages": ["xx_XX"]}}},
            "channels.kiosk.languages",
        ),
        (
            {"channels": ["kiosk"], "options": {"kiosk": {"profile": "../etc"}}},
            "channels.kiosk.profile",
        ),
    ],
)
def test_publish_config_errors(
    example: Catalogue, tmp_path: Path, kwargs: dict[str, object], key: str
) -> None:
    with pytest.raises(ConfigError) as info:
        publish(
            example,
            **{
                "channels": ["web"],
                "out": tmp_path / "out",
                "jobs": 1,  # type: ignore[arg-type]
                **kwargs,
            },
        )
    assert info.value.key == key
    assert not (tmp_path / "out").exists()


def test_any_executor_runs_the_jobs(example: Catalogue, tmp_path: Path) -> None:
    inline = tmp_path / "inline"
    publish(example, ["web"], out=inline, jobs=1, context=Publication(MOMENT))
    threads = tmp_path / "threads"
    with ThreadPoolExecutor(2) as pool:
        publish(example, ["web"], out=threads, executor=pool, jobs=2, context=Publication(MOMENT))
    check_manifest(threads)
    a, b = tree(inline), tree(threads)
    del a["manifest.json"], b["manifest.json"]
    assert a == b


class _OtherCode(ThreadPoolExecutor):
    """A worker that runs other code than the publishing process (as if its machine had
    another version installed); one thread, so that the patches never overlap."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        def elsewhere():  # type: ignore[no-untyped-def]
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr("pim.reuse.code_digest", lambda: "0" * 32)
                return fn(*args, **kwargs)

        return super().submit(elsewhere)


def test_a_worker_running_other_code_refuses_its_jobs(example: Catalogue, tmp_path: Path) -> None:
    out = tmp_path / "out"
    publish(example, ["web"], out=out, jobs=1, context=Publication(MOMENT))
    before = tree(out)
    with _OtherCode(1) as pool, pytest.raises(ChannelError, match="other code") as info:
        publish(example, ["web"], out=out, executor=pool, jobs=2, context=Publication(MOMENT))
    assert info.value.channel == "web"
    assert tree(out) == before, "the publication in OUT stays as it was"


def test_a_dask_cluster_runs_the_jobs(example: Catalogue, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    inline = tmp_path / "inline"
    publish(example, ["web"], out=inline, jobs=1, context=Publication(MOMENT))
    out = tmp_path / "dask"
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        manifest = publish(
            example,
            ["web"],
            out=out,
            executor=client.get_executor(),
            jobs=2,
            context=Publication(MOMENT),
        )
        assert len(client.scheduler_info()["workers"]) == 2
    check_manifest(out)
    assert any(a["path"].endswith("KT-K10.json") for a in manifest["artifacts"])
    a, b = tree(inline), tree(out)
    del a["manifest.json"], b["manifest.json"]
    assert a == b


def test_a_failure_while_swapping_puts_the_previous_channels_back(
    example: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    publish(example, ["web", NamesChannel], out=out, jobs=1, context=Publication(MOMENT))
    before = tree(out)
    real_replace = os.replace

    def failing_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if str(dst).endswith("manifest.json"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr("pim.publishing.os.replace", failing_replace)
    with pytest.raises(OSError, match="No space left"):
        publish(
            example,
            ["web", NamesChannel],
            out=out,
            jobs=1,
            context=Publication(MOMENT, base_url="https://elsewhere.example"),
        )
    monkeypatch.undo()
    assert tree(out) == before
    assert not list(tmp_path.glob(".out.staging-*"))


def test_the_catalogue_is_tallied_from_a_context_whose_jobs_saw_every_product() -> None:
    """Jobs add up their products' source digests in any order; a context whose jobs did
    not cover every SKU range gives no tally (the rows are read again instead)."""
    from pim.publishing import Job, JobResult, SourceTally, _tallied

    products = {f"P{i:03}": f"{i * 7919:024x}" for i in range(20)}
    whole = SourceTally()
    for source in reversed(products.values()):
        whole.add(source)

    def result(locale: str, sku_range: tuple[str | None, str | None] | None) -> JobResult:
        low, high = sku_range or (None, None)
        tally = SourceTally()
        for sku, source in products.items():
            if (low is None or sku >= low) and (high is None or sku < high):
                tally.add(source)
        job = Job("x", "m:X", {}, locale, "ecommerce", sku_range=sku_range)
        return JobResult(job, [], [], [], sources=tally)

    halves = [(None, "P010"), ("P010", None)]
    assert _tallied([result("de_DE", r) for r in halves], 2) == whole
    assert _tallied([result("de_DE", halves[0]), result("pl_PL", None)], 2) == whole
    assert _tallied([result("de_DE", halves[0]), result("pl_PL", halves[1])], 2) is None
    assert _tallied([result("de_DE", halves[0])], 2) is None


def test_a_job_result_comes_back_from_a_worker_whole() -> None:
    import pickle

    from pim.channels.base import Artifact, Notice, Skip
    from pim.publishing import Job, JobResult
    from pim.skus import SkuList

    job = Job("feeds", "pim.channels.feeds:FeedsChannel", {"x": 1}, "de_DE", "ecommerce")
    result = JobResult(
        job,
        [
            Artifact("web", "de_DE", "web/de_DE/products/A-1.json", "ab" * 32, 10, ("A-1",)),
            Artifact(
                "feeds", "de_DE", "feeds/de_DE/google.xml", "cd" * 32, 99, SkuList(["A", "B"])
            ),
        ],
        [Skip("web", "de_DE", "A-2", "disabled")],
        [],
        [Notice("web", "de_DE", "A-1", "images", "replaced")],
        products="lines.jsonl",
        reused=3,
    )
    back = pickle.loads(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == result
    assert all(type(a) is Artifact for a in back.artifacts)
    assert list(back.artifacts[1].skus) == ["A", "B"] and back.reused == 3
