"""The checks of one post as written in a schedule file: keys, text or text file, variants, hashtags, link,
images with alt text, accessibility lint, and each network's length as the post will really go out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from bot import contentfiles, lint, texthygiene
from bot.compose import TemplateError
from bot.errors import BotError
from bot.fields import FieldReader
from bot.models import Draft, Image, PostSpec
from bot.publishers import registry
from bot.yamlsource import Node, Where

MAX_WARNING_CHARS = 100
LANGUAGE_PATTERN = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
POST_TEMPLATE_FIELDS = {"name", "year", "date", "link"}
LONGEST_DATE = "September 30, 2026"
"""The longest ``{date}`` the planner renders (``human_date``), for length checks."""


def _counting(added: str, spec: PostSpec, tags_from: str, numbering: str = "") -> str:
    """What the bot added after the text, in words: ", counting the link and the hashtags #A #B (...)"."""
    parts = [f"the numbering {numbering}"] if numbering and numbering in added else []
    if spec.link and spec.link in added:
        parts.append("the link")
    shown = [f"#{t.lstrip('#')}" for t in spec.hashtags if f"#{t.lstrip('#')}" in added]
    if shown:
        origin = f" ({tags_from})" if tags_from else ""
        parts.append(f"the hashtag{'s' if len(shown) > 1 else ''} {' '.join(shown)}{origin}")
    return f", counting {' and '.join(parts)} added after the text" if parts else ""


ALT_HINT = (
    "describe what the image shows, for followers who use a screen reader or can't see it, e.g. "
    "'A teacher reads to three children in a sunny classroom'"
)
"""How to write alt text, where it is missing or empty."""


class PostChecker(FieldReader):
    """One post's fields, checked where they are written; lengths are checked on the rendered text."""

    def post_spec(
        self,
        item: Node,
        extra: list[str],
        hashtags: list[str] | None,
        link: str | None,
        fields: set[str],
        context: Mapping[str, str],
        *,
        numbering: str = "",
        warning_default: str | None = None,
        language_default: str | None = None,
        part: bool = False,
    ) -> PostSpec | None:
        """``numbering``, ``*_default`` and ``part`` are for the parts of a ``thread:`` (``thread_spec``)."""
        v = item.value
        if "thread" in v and not part:
            return self.thread_spec(item, extra, hashtags, link, fields, context)
        ok = self.keys(
            item,
            [
                "text",
                "text_file",
                *registry.ids(),
                "hashtags",
                "link",
                "images",
                "content_warning",
                "language",
                *(() if part else ("thread",)),
                *extra,
            ],
            "a thread part" if part else "a post",
        )
        text: str | None = None
        text_where = item.where
        if "text" in v and "text_file" in v:
            self.problem(v["text_file"].where, "a post has both text and text_file", "keep one of them")
            ok = False
        elif "text_file" in v:
            rel = self.text(v["text_file"], "text_file")
            text_where = v["text_file"].where
            if rel is not None:
                text = self.text_file(rel, text_where)
                ok = ok and text is not None
        else:
            text = self.text(v.get("text"), "text", parent=item, key="text")
            if "text" in v:
                text_where = v["text"].where
            if text is None:
                ok = False
        variants: dict[str, str] = {}
        for network in registry.ids():
            if network in v:
                variant = self.text(v[network], f"{network} text")
                if variant is None:
                    ok = False
                else:
                    variants[network] = variant.strip()
        tags = (
            self.hashtags(v["hashtags"])
            if "hashtags" in v
            else (hashtags if hashtags is not None else list(self.settings.hashtags))
        )
        tags_from = (
            "this post's"
            if "hashtags" in v
            else "the thread's"
            if part
            else ("the file's" if hashtags is not None else "the default ones from settings.yaml")
        )
        post_link = self.url(v["link"], "link") if "link" in v else link
        link_ok = not ("link" in v and post_link is None and v["link"].value is not None)
        images = self.images(v.get("images"))
        warning = self.content_warning(v.get("content_warning"))
        language = self.language(v.get("language"))
        if warning is None:
            warning = warning_default
        if language is None:
            language = language_default
        ok = ok and link_ok and images is not None and warning is not False and language is not False
        if text is None:
            return None
        # The text's own checks run even when another key of the post is wrong: report everything at once.
        for body, where in [(text, text_where), *[(t, v[n].where) for n, t in variants.items()]]:
            self.template(body, where, fields)
            if self.text_checks:
                for finding in lint.lint_text(body):
                    self.problem(where, finding.message, finding.hint, warning=True, code=finding.code)
                count = lint.lint_hashtag_count(len(tags) + len(lint.hashtag_spans(body)))
                if count is not None:
                    self.problem(where, count.message, count.hint, warning=True, code=count.code)
        spec = PostSpec(
            text.strip(),
            MappingProxyType(variants),
            tuple(tags),
            post_link,
            tuple(images or ()),
            item.where.line,
            warning if isinstance(warning, str) else None,
            language if isinstance(language, str) else None,
        )
        if self.text_checks and link_ok:
            where = {"": text_where, **{n: v[n].where for n in variants}}
            self.check_lengths(spec, where, context, numbering=numbering, tags_from=tags_from)
            self.check_readability(spec, where, context, numbering=numbering)
        return spec if ok else None

    def thread_spec(
        self,
        item: Node,
        extra: list[str],
        hashtags: list[str] | None,
        link: str | None,
        fields: set[str],
        context: Mapping[str, str],
    ) -> PostSpec | None:
        """A post written as ``thread:``, a list of parts; each part is checked like a post at its own line.

        The post's hashtags and link go on the first part only (a part may set its own); its content warning
        and language on every part. With ``threads: numbering`` each part ends in ``n/total``, counted."""
        v = item.value
        in_parts = ("text", "text_file", "images", *registry.ids())  # said below in plainer words
        ok = self.keys(
            item,
            ["thread", "hashtags", "link", "content_warning", "language", *in_parts, *extra],
            "a thread post",
        )
        for key in in_parts:
            if key in v:
                self.problem(
                    v[key].where,
                    f"a thread post has '{key}:' beside 'thread:'",
                    f"move '{key}:' into one of the parts under 'thread:'",
                )
                ok = False
        tags = (
            self.hashtags(v["hashtags"])
            if "hashtags" in v
            else (hashtags if hashtags is not None else list(self.settings.hashtags))
        )
        post_link = self.url(v["link"], "link") if "link" in v else link
        warning = self.content_warning(v.get("content_warning"))
        language = self.language(v.get("language"))
        ok = ok and warning is not False and language is not False
        node = v["thread"]
        if node.kind != "list" or not node.value:
            self.problem(node.where, "thread must be a list of parts, each '- text: ...'", "- text: ...")
            return None
        most = self.settings.thread_max_parts
        if len(node.value) > most:
            self.problem(
                node.value[most].where,  # the first part too many
                f"thread has {len(node.value)} parts; at most {most} are allowed",
                "split it into two posts, or raise 'threads: max_parts' in settings.yaml",
            )
            ok = False
        total = len(node.value)
        parts: list[PostSpec] = []
        for n, part_node in enumerate(node.value, start=1):
            if part_node.kind != "mapping":
                self.problem(part_node.where, f"part {n} of the thread must be a mapping with 'text:'")
                ok = False
                continue
            spec = self.post_spec(
                part_node,
                [],
                tags if n == 1 else [],
                post_link if n == 1 else None,
                fields,
                context,
                numbering=f"{n}/{total}" if self.settings.thread_numbering else "",
                warning_default=warning if isinstance(warning, str) else None,
                language_default=language if isinstance(language, str) else None,
                part=True,
            )
            if spec is None:
                ok = False
            else:
                parts.append(spec)
        if not ok or len(parts) != total:
            return None
        first = parts[0]
        return PostSpec(
            first.text,
            first.variants,
            first.hashtags,
            first.link,
            first.images,
            item.where.line,
            first.content_warning,
            first.language,
            thread=tuple(parts),
        )

    def images(self, node: Node | None) -> list[Image] | None:
        if node is None or node.value is None:
            return []
        if node.kind != "list":
            self.problem(node.where, "images must be a list of '- file: ... alt: ...'")
            return None
        max_images, max_alt = self.image_limits()
        if len(node.value) > max_images:
            self.problem(node.where, f"{len(node.value)} images; a post can carry at most {max_images}")
            return None
        out: list[Image] = []
        ok = True
        for item in node.value:
            if item.kind != "mapping":
                self.problem(item.where, "each image needs 'file:' and 'alt:'")
                ok = False
                continue
            self.keys(item, ["file", "alt"], "an image")
            rel = self.text(item.value.get("file"), "image file", parent=item, key="file")
            alt = self.text(item.value.get("alt"), "alt text", parent=item, key="alt", empty_hint=ALT_HINT)
            if alt is None:
                ok = False
            elif len(alt.strip()) > max_alt:
                self.problem(
                    item.value["alt"].where,
                    f"alt text is {len(alt.strip())} characters; the limit is {max_alt}",
                    "describe what matters in the image; put the rest in the post",
                )
                ok = False
            if rel is None:
                ok = False
                continue
            where = item.value["file"].where
            if alt is not None and texthygiene.is_invisible(alt):
                self.problem(
                    item.value["alt"].where,
                    "alt text is only invisible characters, so screen readers get nothing",
                    "describe what the image shows",
                )
                ok = False
            elif alt is not None and (finding := lint.lint_alt(alt)) is not None:
                self.problem(
                    item.value["alt"].where, finding.message, finding.hint, warning=True, code=finding.code
                )
            path = self.image_file(rel, where)
            if path is None:
                ok = False
            if ok and alt is not None and path is not None:
                out.append(Image(path, alt.strip()))
        return out if ok else None

    def text_file(self, rel: str, where: Where) -> str | None:
        """A ``text_file:``'s words: a UTF-8 file inside the content folder, at most 64 KB, no control
        characters; None (with the problem reported) otherwise."""
        try:
            path = contentfiles.confine(self.content, rel, max_bytes=contentfiles.MAX_TEXT_BYTES)
            data = contentfiles.read_capped(path, contentfiles.MAX_TEXT_BYTES)
        except contentfiles.ContentFileError as exc:
            self.problem(where, f"text_file {exc.message}", exc.hint)
            return None
        try:
            text = data.decode("utf-8").replace("\r\n", "\n").strip()
        except UnicodeDecodeError:
            self.problem(where, f"text_file {rel!r} is not UTF-8 text", "save it as UTF-8 text")
            return None
        if not text:
            self.problem(where, f"text_file {rel!r} is empty")
            return None
        if not self.clean_text(text, where, f"text_file {rel!r}"):
            return None
        return text

    def image_file(self, rel: str, where: Where) -> Path | None:
        """An image inside the content folder whose header Pillow reads (format, pixel budget); its real path."""
        try:
            path = contentfiles.confine(self.content, rel, max_bytes=contentfiles.MAX_IMAGE_BYTES)
        except contentfiles.ContentFileError as exc:
            self.problem(where, f"image {exc.message}", exc.hint)
            return None
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            self.problem(where, f"{rel!r} is not a PNG, JPEG, GIF or WebP image")
            return None
        from bot.images import check_file  # Pillow only when a schedule has images

        try:
            check_file(path)
        except BotError as exc:
            self.problem(where, f"image {rel!r}: {exc.message}", exc.hint)
            return None
        return path

    def content_warning(self, node: Node | None) -> str | Literal[False] | None:
        """A post's ``content_warning:``: short plain words shown before the post; False when invalid."""
        if node is None:
            return None
        text = self.text(node, "content_warning")
        if text is None:
            return False
        text = " ".join(text.split())
        if len(text) > MAX_WARNING_CHARS:
            self.problem(
                node.where,
                f"content_warning is {len(text)} characters; keep it under {MAX_WARNING_CHARS}",
                "a few words that say what the post is about, e.g. 'restraint, injury of a child'",
            )
            return False
        return text

    def language(self, node: Node | None) -> str | Literal[False] | None:
        if node is None:
            return None
        text = self.text(node, "language")
        if text is None or not LANGUAGE_PATTERN.match(text.strip()):
            self.problem(node.where, f"language {text!r} is not a language tag", "e.g. en, es or pt-BR")
            return False
        return text.strip()

    def image_limits(self) -> tuple[int, int]:
        """Images per post and alt-text characters: the strictest of the enabled networks' limits."""
        rules = [registry.get(n).images for n in self.settings.networks] or [
            s.images for s in registry.specs()
        ]
        return min(r.max_images for r in rules), min(r.max_alt_chars for r in rules)

    def check_lengths(
        self,
        spec: PostSpec,
        where: Mapping[str, Where],
        context: Mapping[str, str],
        *,
        numbering: str = "",
        tags_from: str = "",
    ) -> None:
        """Render the post as it will go out and refuse text that a network would refuse.

        ``{date}`` is filled in with its longest rendering, so a post that fits here fits on every day it can
        go out. The message names what was added to the text (the link, which hashtags, from where), so a
        misspelt ``hashtags:`` key that left the defaults in place shows.
        """
        from bot.compose import native_warning, render
        from bot.publishers.registry import text_rules

        draft = self.draft(spec, context, numbering)
        rendered: dict[tuple[str, bool], str] = {}  # networks without a variant share one rendering
        for network in self.settings.networks:
            rules = text_rules(network, self.settings.network_options)
            shape = (spec.variants.get(network, spec.text), rules.cw_line and not rules.spoilers)
            try:
                text = rendered.get(shape) or rendered.setdefault(shape, render(draft, network, rules))
            except (TemplateError, KeyError, IndexError, ValueError):
                return  # the template problem is already reported
            warning = native_warning(draft, rules)
            length = rules.count(text, warning)
            if rules.fits(text, warning):
                continue
            if length <= rules.limit:
                message = f"text is too long for {network}: over {rules.max_bytes} bytes of UTF-8"
                hint = f"shorten it or add a shorter '{network}:' variant"
            else:
                bare = render(replace(draft, link=None, hashtags=(), numbering=""), network, rules)
                message = f"text is too long for {network}: {length}/{rules.limit} {rules.unit}"
                message += _counting(text[len(bare) :], spec, tags_from, numbering)
                hint = f"shorten it by {max(1, length - rules.limit)} or add a shorter '{network}:' variant"
            self.problem(where.get(network, where[""]), message, hint)

    def draft(self, spec: PostSpec, context: Mapping[str, str], numbering: str) -> Draft:
        """The post as the bot will render it, ``{date}`` at its longest."""
        name = context.get("name", "")
        full = {"name": name, "year": str(self.today.year), "date": LONGEST_DATE, "link": spec.link or ""}
        return Draft(
            key="validate",
            source="validate",
            name=name,
            file="",
            text=spec.text,
            variants=spec.variants,
            hashtags=spec.hashtags,
            link=spec.link,
            images=spec.images,
            context=MappingProxyType(full),
            content_warning=spec.content_warning,
            numbering=numbering,
        )

    def check_readability(
        self, spec: PostSpec, where: Mapping[str, Where], context: Mapping[str, str], *, numbering: str = ""
    ) -> None:
        """Warn when the words of the text, or of a network's own text, read above ``readability:
        max_grade``; each is measured once as it renders (see ``bot.readability``), English posts only."""
        from bot import readability
        from bot.compose import render

        language = spec.language or (self.settings.langs[0] if self.settings.langs else "en")
        if not readability.is_english(language):
            return
        draft = self.draft(spec, context, numbering)
        limit = self.settings.readability_max_grade
        seen: set[str] = set()
        for network in self.settings.networks or registry.ids():
            at = where.get(network, where[""])
            if (key := f"{at.line}:{at.column}") in seen:
                continue
            seen.add(key)
            try:
                text = render(draft, network)
            except (TemplateError, KeyError, IndexError, ValueError):
                return  # the template problem is already reported
            value = readability.shown(
                readability.grade(
                    text, readability.exclusions(draft), min_words=self.settings.readability_min_words
                )
            )
            if value is not None and value > limit:
                self.problem(
                    at,
                    f"this post reads at about grade {value:g}; aim for grade {limit:g} or below so a parent "
                    "can read it on a phone",
                    "shorter sentences and everyday words (the name of the day, links and hashtags do not count)",
                    warning=True,
                    code="readability",
                )

