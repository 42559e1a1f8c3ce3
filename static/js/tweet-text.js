/* X's (Twitter's) text rules, twitter-text v3, for the post counter: the server's numbers
 * with no round trip. This is the browser twin of sandbox/tweet_text.py; it takes the same
 * steps in the same order, so that file says why each step is as it is. Change both together.
 *
 * Load tweet-text-data.js (the TLD list) too; it is read on first use, so order is free.
 * Indices here are UTF-16 code units, as String#slice counts (Python's entities count code
 * points); parseTweet's ranges are UTF-16 in both.
 */
(function () {
  "use strict";

  const V3 = Object.freeze({
    maxWeightedTweetLength: 280,
    scale: 100,
    defaultWeight: 200,
    transformedURLLength: 23,
    ranges: [
      [0, 4351, 100],
      [8192, 8205, 100],
      [8208, 8223, 100],
      [8242, 8247, 100],
    ],
  });

  const PUNCT = "!'#%&()*+,\\-./:;<=>?@[]^_{|}~$";
  const SPACES =
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007" +
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
  const INVALID = "\ufffe\ufeff\uffff";
  const DIRECTIONAL = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069";
  const LATIN_ACCENTS =
    "\\xc0-\\xd6\\xd8-\\xf6\\xf8-\\xff\\u0100-\\u024f\\u0253\\u0254\\u0256\\u0257\\u0259\\u025b" +
    "\\u0263\\u0268\\u026f\\u0272\\u0289\\u028b\\u02bb\\u0300-\\u036f\\u1e00-\\u1eff";
  const ASCII_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  function classBody(chars) {
    return Array.from(new Set(chars))
      .map((c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"))
      .join("");
  }

  // --- URLs --------------------------------------------------------------------------

  const NOT_DOMAIN = new Set(PUNCT + SPACES + INVALID + DIRECTIONAL);
  const NOT_BEFORE = new Set(ASCII_ALNUM + "@\uff20$#\uff03" + INVALID);
  const RUN = new RegExp(
    "[^" + classBody([...NOT_DOMAIN].filter((c) => c !== "-" && c !== "_")) + "]+",
    "gu",
  );
  const AFTER_TLD_NOT = new Set(ASCII_ALNUM + "@+-");
  const PUNYCODE_CHARS = new Set(ASCII_ALNUM + "-");

  const P = "[a-z\\u0400-\\u04ff0-9!*';:=+,.$/%#\\[\\]\\-\\u2013_~|&@" + LATIN_ACCENTS + "]";
  const PARENS = "\\((?:" + P + "+|(?:" + P + "*\\(" + P + "+\\)" + P + "*))\\)";
  const PATH_END = "(?:[+\\-a-z\\u0400-\\u04ff0-9=_#/" + LATIN_ACCENTS + "]|" + PARENS + ")";
  const PATH = "(?:(?:" + P + "*(?:" + PARENS + P + "*)*" + PATH_END + ")|(?:@" + P + "+/))";
  const QUERY = "\\?[a-z0-9!?*'@();:&=+$/%#\\[\\]\\-_.,~|]*[a-z0-9\\-_&=#/]";
  const URL_TAIL = new RegExp("(?::[0-9]+)?(?<path>/" + PATH + "*)?(?:" + QUERY + ")?", "iuy");
  const ASCII_LABELS = new RegExp("(?:[\\-a-z0-9" + LATIN_ACCENTS + "]+\\.)+", "iuy");
  const TCO = new RegExp("^https?://t\\.co/([a-z0-9]+)(?:" + QUERY + ")?", "iu");
  const TCO_MAX_SLUG = 40;
  const MAX_URL_LENGTH = 4096;
  const MAX_LABEL_LENGTH = 63;

  let tldTable = null;
  function tlds() {
    if (tldTable === null) {
      const data = window.SandpitTweetTextData;
      if (!data) throw new Error("SandpitTweetText needs static/js/tweet-text-data.js loaded");
      const all = data.tlds.generic.concat(data.tlds.country).map((t) => t.toLowerCase());
      const lengths = Array.from(new Set(all.map((t) => t.length))).sort((a, b) => b - a);
      tldTable = { set: new Set(all), lengths };
    }
    return tldTable;
  }

  function tldEnd(text, start, stop) {
    const table = tlds();
    for (const length of table.lengths) {
      const end = start + length;
      if (
        end <= stop &&
        table.set.has(text.slice(start, end).toLowerCase()) &&
        !AFTER_TLD_NOT.has(text.slice(end, end + 1))
      ) {
        return end;
      }
    }
    if (text.slice(start, start + 4).toLowerCase() === "xn--") {
      let end = start + 4;
      while (end < text.length && PUNYCODE_CHARS.has(text[end])) end++;
      if (end > start + 4) return end;
    }
    return null;
  }

  function domainEnd(text, q, b, rest, tld) {
    if (NOT_DOMAIN.has(text[q]) || NOT_DOMAIN.has(text[b - 1])) return null;
    if (rest !== null) return rest;
    return text.slice(q, b).includes("_") ? null : tld;
  }

  function domainGroups(text) {
    const runs = Array.from(text.matchAll(RUN), (m) => [m.index, m.index + m[0].length]);
    const runAt = new Map(runs.map(([start], j) => [start, j]));
    const labelAfter = runs.map(([, end]) =>
      text[end] === "." && runAt.has(end + 1) ? runAt.get(end + 1) : null,
    );
    const tld = runs.map(() => null);
    const whole = runs.map(() => null);
    for (let j = runs.length - 1; j >= 0; j--) {
      const k = labelAfter[j];
      if (k !== null) {
        tld[k] = tldEnd(text, runs[k][0], runs[k][1]);
        whole[j] = domainEnd(text, runs[j][0], runs[j][1], whole[k], tld[k]);
      }
    }

    const groups = [];
    runs.forEach(([a, b], j) => {
      const k = labelAfter[j];
      if (k !== null) {
        if (NOT_DOMAIN.has(text[b - 1])) return;
        const underscore = text.slice(a, b).lastIndexOf("_");
        const u = underscore >= 0 ? a + underscore : -1;
        const rest = whole[k];
        if (u > a && rest !== null) groups.push([a, u, 0, rest]);
        const end = rest !== null ? rest : tld[k];
        if (end !== null) groups.push([Math.max(a, u + 1), b, 0, end]);
      } else if (text.startsWith("://", b)) {
        for (const scheme of ["https", "http"]) {
          const q = b - scheme.length;
          if (q >= a && text.slice(q, b).toLowerCase() === scheme) {
            const d = runAt.get(b + 3);
            if (d !== undefined && whole[d] !== null) {
              groups.push([q, q + 1, scheme.length + 3, whole[d]]);
            }
            break;
          }
        }
      }
    });
    return groups;
  }

  function isLowSurrogate(code) {
    return code >= 0xdc00 && code <= 0xdfff;
  }

  function isHighSurrogate(code) {
    return code >= 0xd800 && code <= 0xdbff;
  }

  function firstStart(text, lo, hi, pos) {
    const starts = [];
    let from = Math.max(lo, pos + 1);
    if (lo === 0 && pos === 0) {
      starts.push(1, 0);
      from = 2;
    }
    const ok = (q) =>
      q < hi &&
      !NOT_DOMAIN.has(text[q]) &&
      (q === 0 || !NOT_BEFORE.has(text[q - 1])) &&
      // Python scans code points; never start inside a surrogate pair.
      !(q > 0 && isLowSurrogate(text.charCodeAt(q)) && isHighSurrogate(text.charCodeAt(q - 1)));
    for (const q of starts) if (ok(q)) return q;
    for (let q = from; q < hi; q++) if (ok(q)) return q;
    return null;
  }

  function asciiDomains(domain) {
    const spans = [];
    let p = 0;
    while (p < domain.length) {
      ASCII_LABELS.lastIndex = p;
      const labels = ASCII_LABELS.exec(domain);
      let end = null;
      if (labels) {
        for (let d = p + labels[0].length - 1; d >= p && end === null; d--) {
          if (domain[d] === ".") end = tldEnd(domain, d + 1, domain.length);
        }
      }
      if (end === null) {
        p++;
      } else {
        spans.push([p, end]);
        p = end;
      }
    }
    return spans;
  }

  function punycodeLength(codePoints) {
    // RFC 3492 encoding, counting the output instead of building it.
    const adapt = (delta, points, first) => {
      delta = first ? Math.floor(delta / 700) : delta >> 1;
      delta += Math.floor(delta / points);
      let k = 0;
      while (delta > 455) {
        delta = Math.floor(delta / 35);
        k += 36;
      }
      return k + Math.floor((36 * delta) / (delta + 38));
    };
    const basic = codePoints.filter((c) => c < 0x80).length;
    let length = basic + (basic > 0 ? 1 : 0);
    let n = 128;
    let delta = 0;
    let bias = 72;
    let h = basic;
    while (h < codePoints.length) {
      let m = Infinity;
      for (const c of codePoints) if (c >= n && c < m) m = c;
      delta += (m - n) * (h + 1);
      n = m;
      for (const c of codePoints) {
        if (c < n) delta++;
        if (c === n) {
          let q = delta;
          for (let k = 36; ; k += 36) {
            const t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
            if (q < t) break;
            length++;
            q = Math.floor((q - t) / (36 - t));
          }
          length++;
          bias = adapt(delta, h + 1, h === basic);
          delta = 0;
          h++;
        }
      }
      delta++;
      n++;
    }
    return length;
  }

  function labelOk(label) {
    const codePoints = Array.from(label, (c) => c.codePointAt(0));
    if (codePoints.length < 1 || codePoints.length > MAX_LABEL_LENGTH) return false;
    const parts = label.replace(/[\u3002\uff0e\uff61]/gu, ".").split(".");
    let encoded = parts.length - 1;
    for (const part of parts) {
      const points = Array.from(part, (c) => c.codePointAt(0));
      encoded += points.every((c) => c < 0x80) ? part.length : 4 + punycodeLength(points);
    }
    return encoded <= MAX_LABEL_LENGTH;
  }

  function urlOk(url, protocol, domain) {
    if (!domain.split(".").every(labelOk)) return false;
    if (domain.startsWith("xn--") && asciiDomains(domain).length === 0) return false;
    return (protocol || "https://").length + url.length <= MAX_URL_LENGTH;
  }

  function* urlMatches(text) {
    let pos = 0;
    for (const [lo, hi, protocolLength, domainStop] of domainGroups(text)) {
      const start = firstStart(text, lo, hi, pos);
      if (start === null) continue;
      URL_TAIL.lastIndex = domainStop;
      const hasPath = URL_TAIL.exec(text).groups.path !== undefined;
      pos = URL_TAIL.lastIndex;
      yield [start, start + protocolLength, domainStop, pos, hasPath];
    }
  }

  function extractUrls(text) {
    if (!text.includes(".")) return [];
    const urls = [];
    for (const [start, domainStart, domainStop, urlEnd, hasPath] of urlMatches(text)) {
      let end = urlEnd;
      let url = text.slice(start, end);
      const protocol = text.slice(start, domainStart);
      const domain = text.slice(domainStart, domainStop);
      if (!urlOk(url, protocol, domain)) continue;
      if (protocol) {
        const tco = TCO.exec(url);
        if (tco) {
          if (tco[1].length > TCO_MAX_SLUG) continue;
          url = tco[0];
          end = start + url.length;
        }
        urls.push({ kind: "url", value: url, start, end });
        continue;
      }
      if (start > 0 && "-_./".includes(text[start - 1])) continue;
      const found = asciiDomains(domain).map(([a, b]) => ({
        kind: "url",
        value: domain.slice(a, b),
        start: start + a,
        end: start + b,
      }));
      if (found.length && hasPath) {
        const last = found[found.length - 1];
        last.value += url.slice(domain.length);
        last.end = end;
      }
      urls.push(...found);
    }
    return urls;
  }

  // --- Mentions, hashtags, cashtags ------------------------------------------------------

  const MENTION = new RegExp(
    "(?<before>^|[^a-zA-Z0-9_!#$%&*@\\uff20]|(?:^|[^a-zA-Z0-9_+~.\\-])(?:rt|RT|rT|Rt):?)" +
      "[@\\uff20](?<name>[a-zA-Z0-9_]{1,20})(?<slug>/[a-zA-Z][a-zA-Z0-9_\\-]{0,24})?",
    "gu",
  );
  const MENTION_END = new RegExp("[@\\uff20" + LATIN_ACCENTS + "]|://", "uy");
  const HASHTAG_ALPHA = "[\\p{L}\\p{M}]";
  const HASHTAG_ALNUM =
    "[\\p{L}\\p{M}\\p{Nd}_\\u200c\\u200d\\ua67e\\u05be\\u05f3\\u05f4\\uff5e\\u301c\\u309b\\u309c" +
    "\\u30a0\\u30fb\\u3003\\u0f0b\\u0f0c\\u00b7]";
  const HASHTAG = new RegExp(
    "(?<before>^|\\ufe0e|\\ufe0f|(?!" + HASHTAG_ALNUM + "|&)[^\\ud800-\\udfff])" +
      "[#\\uff03](?!\\ufe0f|\\u20e3)" +
      "(?<tag>" + HASHTAG_ALNUM + "*" + HASHTAG_ALPHA + HASHTAG_ALNUM + "*)",
    "gu",
  );
  const HASHTAG_END = /[#\uff03]|:\/\//uy;
  const CASHTAG = new RegExp(
    "(?:^|[" + classBody(SPACES) + "])\\$(?<tag>[a-z]{1,6}(?:[._][a-z]{1,2})?)" +
      "(?=$|[" + classBody(SPACES + PUNCT) + "])",
    "giu",
  );

  function followedBy(sticky, text, index) {
    sticky.lastIndex = index;
    return sticky.test(text);
  }

  function extractMentions(text) {
    const found = [];
    for (const m of text.matchAll(MENTION)) {
      const end = m.index + m[0].length;
      if (m.groups.slug || followedBy(MENTION_END, text, end)) continue;
      const start = m.index + m.groups.before.length;
      found.push({ kind: "mention", value: m.groups.name, start, end });
    }
    return found;
  }

  function extractHashtags(text) {
    const found = [];
    for (const m of text.matchAll(HASHTAG)) {
      const end = m.index + m[0].length;
      if (followedBy(HASHTAG_END, text, end)) continue;
      const start = m.index + m.groups.before.length;
      found.push({ kind: "hashtag", value: m.groups.tag, start, end });
    }
    return found;
  }

  function extractCashtags(text) {
    return Array.from(text.matchAll(CASHTAG), (m) => {
      const end = m.index + m[0].length;
      return { kind: "cashtag", value: m.groups.tag, start: end - m.groups.tag.length - 1, end };
    });
  }

  function withoutOverlaps(entities) {
    const kept = [];
    for (const entity of entities.slice().sort((x, y) => x.start - y.start)) {
      if (!kept.length || kept[kept.length - 1].end <= entity.start) kept.push(entity);
    }
    return kept;
  }

  function extractEntities(text) {
    tlds(); // fail on first use, not on the first ".", when the data file is missing
    text = String(text);
    return withoutOverlaps(
      extractUrls(text).concat(extractMentions(text), extractHashtags(text), extractCashtags(text)),
    );
  }

  // --- Counting --------------------------------------------------------------------------

  const EMOJI_ELEMENT =
    "(?:[#*0-9]\\ufe0f?\\u20e3" +
    "|\\p{Regional_Indicator}{2}" +
    "|\\p{Emoji_Modifier_Base}\\p{Emoji_Modifier}\\ufe0f?" +
    "|\\p{Extended_Pictographic}(?:\\ufe0f|[\\u{e0020}-\\u{e007e}]+\\u{e007f})?)";
  const EMOJI = new RegExp(EMOJI_ELEMENT + "(?:\\u200d" + EMOJI_ELEMENT + ")*", "gu");

  function charWeight(codePoint, config) {
    for (const [start, end, weight] of config.ranges) {
      if (start <= codePoint && codePoint <= end) return weight;
    }
    return config.defaultWeight;
  }

  function parseTweet(text) {
    tlds(); // fail on first use, not on the first ".", when the data file is missing
    const config = V3;
    text = String(text);
    const normalized = text.normalize("NFC");
    const urls = extractUrls(normalized);
    const urlEnds = new Map(urls.map((u) => [u.start, u.start + u.value.length]));
    const emojiEnds = new Map();
    for (const m of normalized.matchAll(EMOJI)) {
      if (m[0].length > String.fromCodePoint(m[0].codePointAt(0)).length) {
        emojiEnds.set(m.index, m.index + m[0].length);
      }
    }
    const limit = config.maxWeightedTweetLength * config.scale;
    let weighted = 0;
    let valid = true;
    let validEnd = 0;
    let i = 0;
    while (i < normalized.length) {
      let end;
      if (urlEnds.has(i)) {
        end = urlEnds.get(i);
        weighted += config.transformedURLLength * config.scale;
      } else if (emojiEnds.has(i)) {
        end = emojiEnds.get(i);
        weighted += config.defaultWeight;
      } else {
        const codePoint = normalized.codePointAt(i);
        end = i + (codePoint > 0xffff ? 2 : 1);
        weighted += charWeight(codePoint, config);
      }
      if (valid) valid = !INVALID.includes(normalized[end - 1]);
      if (valid && weighted <= limit) validEnd = end - 1;
      i = end;
    }

    const weightedLength = Math.floor(weighted / config.scale);
    return {
      weightedLength,
      valid: valid && weightedLength > 0 && weightedLength <= config.maxWeightedTweetLength,
      permillage: Math.floor((weightedLength / config.maxWeightedTweetLength) * 1000),
      displayRangeStart: 0,
      displayRangeEnd: Math.max(text.length - 1, 0),
      validRangeStart: 0,
      validRangeEnd: validEnd + text.length - normalized.length,
    };
  }

  window.SandpitTweetText = Object.freeze({ parseTweet, extractEntities });
})();
