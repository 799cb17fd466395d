// Shows the discount code of a campaign link (?code=WINTER26) as text, never as HTML.
(function () {
  "use strict";
  var code = new URLSearchParams(window.location.search).get("code");
  if (!code || !/^[A-Za-z0-9_-]{1,40}$/.test(code)) {
    return;
  }
  var box = document.getElementById("discount");
  var slot = document.getElementById("discount-code");
  if (box && slot) {
    slot.textContent = code;
    box.hidden = false;
    // The publication's campaign: its validity, when the link is of that campaign.
    var validity = document.getElementById("discount-validity");
    var campaign = new URLSearchParams(window.location.search).get("utm_campaign");
    if (validity && campaign && validity.getAttribute("data-campaign") === campaign) {
      validity.hidden = false;
    }
  }
})();
