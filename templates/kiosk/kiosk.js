/* Vitrina kiosk: attract loop, categories, product screen, language switch, idle reset.
 * Every text comes from data/<locale>.js as published (prices already formatted); it is
 * placed with textContent, never parsed as HTML. No request leaves the bundle. */
(function () {
  "use strict";

  var root = document.getElementById("kiosk");
  var screen = document.getElementById("screen");
  var packs = window.VITRINA_KIOSK || {};
  var defaultLocale = root.dataset.defaultLocale;
  var idleMs = Number(root.dataset.idleTimeout) * 1000;
  var slideMs = Number(root.dataset.slideSeconds) * 1000;
  var state = { locale: defaultLocale, view: "attract", category: null, sku: null, slide: 0 };
  var timers = { idle: 0, slide: 0 };
  var indexes = {};

  function pack() { return packs[state.locale]; }
  function ui(key) { return pack().ui[key]; }

  function index() {
    if (!indexes[state.locale]) {
      var data = pack().data, products = {}, categories = {};
      data.products.forEach(function (p) { products[p.sku] = p; });
      data.categories.forEach(function (c) { categories[c.code] = c; });
      indexes[state.locale] = { products: products, categories: categories };
    }
    return indexes[state.locale];
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function picture(product, size, cls) {
    var image = product.images[0];
    if (!image) return el("div", cls + " no-image");
    var node = el("img", cls);
    node.alt = product.name;
    node.src = image[size] || image.large || image.medium;
    return node;
  }

  function isolated(tag, cls, text) {
    var node = el(tag, cls, text);
    node.dir = "auto";  /* a brand name keeps its own direction inside right-to-left text */
    return node;
  }

  function tapTarget(cls, label, onTap) {
    var node = el("button", cls, label);
    node.type = "button";
    node.addEventListener("click", onTap);
    return node;
  }

  function priceBlock(product) {
    var block = el("div", "price-block");
    if (product.price) block.appendChild(el("span", product.was ? "price sale" : "price", product.price));
    if (product.was) block.appendChild(el("span", "was", product.was));
    if (product.validity) block.appendChild(el("span", "validity", product.validity));
    return block;
  }

  function availability(product) {
    if (!product.availability) return el("span", "availability");
    var node = el("span", "availability " + product.availability.code, product.availability.label);
    node.dataset.code = product.availability.code;
    return node;
  }

  function go(view, extra) {
    state.view = view;
    state.category = extra && extra.category !== undefined ? extra.category : state.category;
    state.sku = extra && extra.sku !== undefined ? extra.sku : state.sku;
    render();
  }

  function backBar(label, onTap) {
    var bar = el("div", "screen-bar");
    var arrow = pack().data.dir === "rtl" ? "→ " : "← ";
    bar.appendChild(tapTarget("back", arrow + ui("back"), onTap));
    bar.appendChild(el("h1", "screen-title", label));
    return bar;
  }

  function renderAttract() {
    var featured = pack().data.featured;
    if (!featured.length) { go("categories"); return; }
    var product = index().products[featured[state.slide % featured.length]];
    var slide = tapTarget("slide", null, function () { go("categories"); });
    slide.dataset.sku = product.sku;
    slide.appendChild(picture(product, "large", "slide-image"));
    var text = el("div", "slide-text");
    if (product.brand) text.appendChild(isolated("p", "brand", product.brand));
    text.appendChild(el("h1", "name", product.name));
    text.appendChild(priceBlock(product));
    slide.appendChild(text);
    slide.appendChild(el("p", "touch", ui("start")));
    screen.appendChild(slide);
    if (featured.length > 1) {
      timers.slide = window.setTimeout(function () {
        state.slide = (state.slide + 1) % featured.length;
        render();
      }, slideMs);
    }
  }

  function categoryTiles(parent) {
    var grid = el("div", "tiles");
    pack().data.categories.forEach(function (c) {
      if (c.parent !== parent) return;
      var tile = tapTarget("tile", null, function () { go("category", { category: c.code }); });
      tile.dataset.category = c.code;
      tile.appendChild(el("span", "tile-label", c.label));
      tile.appendChild(el("span", "tile-count", c.count_label));
      grid.appendChild(tile);
    });
    return grid;
  }

  function renderCategories() {
    screen.appendChild(el("h1", "screen-title", ui("categories")));
    screen.appendChild(categoryTiles(null));
  }

  function renderCategory() {
    var category = index().categories[state.category];
    if (!category) { go("categories"); return; }
    screen.appendChild(backBar(category.label, function () {
      if (category.parent) go("category", { category: category.parent });
      else go("categories");
    }));
    var children = categoryTiles(category.code);
    if (children.childNodes.length) screen.appendChild(children);
    var grid = el("div", "cards");
    pack().data.products.forEach(function (p) {
      if (p.categories.indexOf(category.code) < 0) return;
      var card = tapTarget("card product-card", null, function () { go("product", { sku: p.sku }); });
      card.dataset.sku = p.sku;
      card.appendChild(picture(p, "medium", "card-image"));
      var body = el("div", "card-body");
      body.appendChild(el("h2", "name", p.name));
      body.appendChild(priceBlock(p));
      card.appendChild(body);
      grid.appendChild(card);
    });
    if (!grid.childNodes.length) grid.appendChild(el("p", "empty", ui("empty")));
    screen.appendChild(grid);
  }

  function renderProduct() {
    var product = index().products[state.sku];
    if (!product) { go("categories"); return; }
    var from = state.category && index().categories[state.category];
    screen.appendChild(backBar(from ? from.label : "", function () {
      if (state.category && index().categories[state.category]) go("category");
      else go("categories");
    }));
    var layout = el("article", "product");
    layout.dataset.sku = product.sku;
    var gallery = el("div", "kiosk-gallery");
    var main = picture(product, "large", "main-image");
    gallery.appendChild(main);
    if (product.images.length > 1) {
      var thumbs = el("div", "thumbs");
      product.images.forEach(function (image) {
        var thumb = tapTarget("thumb", null, function () { main.src = image.large || image.medium; });
        var small = el("img");
        small.alt = "";
        small.src = image.medium || image.large;
        thumb.appendChild(small);
        thumbs.appendChild(thumb);
      });
      gallery.appendChild(thumbs);
    }
    layout.appendChild(gallery);
    var info = el("div", "info");
    if (product.brand) info.appendChild(isolated("p", "brand", product.brand));
    info.appendChild(el("h1", "name", product.name));
    var buy = el("div", "buy");
    var offer = el("div", "offer");
    offer.appendChild(priceBlock(product));
    offer.appendChild(availability(product));
    buy.appendChild(offer);
    var qr = el("figure", "qr");
    var code = el("img", "qr-code");
    code.alt = ui("scan");
    code.src = product.qr;
    qr.appendChild(code);
    qr.appendChild(el("figcaption", null, ui("scan")));
    buy.appendChild(qr);
    if (product.support) {
      var help = el("figure", "qr support");
      var helpCode = el("img", "qr-code");
      var caption = ui(product.support.manual ? "manual" : "help");
      helpCode.alt = caption;
      helpCode.src = product.support.qr;
      help.appendChild(helpCode);
      help.appendChild(el("figcaption", null, caption));
      buy.appendChild(help);
    }
    info.appendChild(buy);
    if (product.attributes.length) {
      info.appendChild(el("h2", "details", ui("details")));
      var list = el("dl", "attributes");
      product.attributes.forEach(function (a) {
        list.appendChild(el("dt", null, a.label));
        list.appendChild(el("dd", null, a.value));
      });
      info.appendChild(list);
    }
    if (product.description) info.appendChild(el("p", "description", product.description));
    layout.appendChild(info);
    screen.appendChild(layout);
  }

  function render() {
    window.clearTimeout(timers.slide);
    var data = pack().data;
    document.documentElement.lang = data.lang;
    document.documentElement.dir = data.dir;
    Array.prototype.forEach.call(document.querySelectorAll("#languages .language"), function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.locale === state.locale));
    });
    document.getElementById("home").setAttribute("aria-label", ui("home"));
    screen.replaceChildren();
    screen.className = "screen-" + state.view;
    root.dataset.view = state.view;
    ({ attract: renderAttract, categories: renderCategories, category: renderCategory,
       product: renderProduct })[state.view]();
  }

  function reset() {
    state = { locale: defaultLocale, view: "attract", category: null, sku: null, slide: 0 };
    render();
  }

  function poke() {
    window.clearTimeout(timers.idle);
    timers.idle = window.setTimeout(reset, idleMs);
  }

  document.addEventListener("pointerdown", poke, true);
  document.addEventListener("keydown", poke, true);
  document.getElementById("home").addEventListener("click", function () { go("categories"); });
  Array.prototype.forEach.call(document.querySelectorAll("#languages .language"), function (b) {
    b.addEventListener("click", function () {
      if (!packs[b.dataset.locale]) return;
      state.locale = b.dataset.locale;
      if (state.view === "attract") state.view = "categories";
      render();
    });
  });
  render();
})();
