import { describe, expect, it } from "vitest";
import { linkKeyFrom } from "../../src/channels/links/link-token.js";
import { readMailChannels } from "../../src/channels/mail-env.js";
import { NO_ALLOWED_TARGETS, parseAllowedTargets } from "../../src/notify/private-targets.js";

const EMAIL = { HITL_PUBLIC_URL: "https://hitl.example.com", HITL_SMTP_URL: "smtp://user:pass@mail.example.com:587", HITL_EMAIL_FROM: "hitl <hitl@example.com>", WEBHOOK_SECRET: "webhook-secret-0123" };
const TWILIO = { HITL_PUBLIC_URL: "https://hitl.example.com", HITL_TWILIO_ACCOUNT_SID: "AC0123456789abcdef", HITL_TWILIO_AUTH_TOKEN: "twilio-token-0123", HITL_TWILIO_FROM: "+14155550199", WEBHOOK_SECRET: "webhook-secret-0123" };

describe("readMailChannels", () => {
  it("reads email with replies: the reply domain defaults to the sender's, the link key to WEBHOOK_SECRET's", () => {
    const { settings, errors } = readMailChannels({ ...EMAIL, HITL_INBOUND_EMAIL_SECRET: "inbound-secret-0123" }, NO_ALLOWED_TARGETS);
    expect(errors).toEqual([]);
    expect(settings).toEqual({
      publicUrl: "https://hitl.example.com",
      linkKey: linkKeyFrom("webhook-secret-0123"),
      email: { smtpUrl: EMAIL.HITL_SMTP_URL, from: EMAIL.HITL_EMAIL_FROM, replyDomain: "example.com" },
      inboundSecret: "inbound-secret-0123",
      twilio: null,
    });
    const own = readMailChannels({ ...EMAIL, HITL_INBOUND_EMAIL_SECRET: "inbound-secret-0123", HITL_INBOUND_EMAIL_DOMAIN: "Reply.Example.com", HITL_LINK_SECRET: "l".repeat(32) }, NO_ALLOWED_TARGETS).settings;
    expect(own.email?.replyDomain).toBe("reply.example.com");
    expect(own.linkKey).toEqual(linkKeyFrom("l".repeat(32)));
  });

  it("names what email needs: the public URL, the sender, a key", () => {
    expect(readMailChannels({ HITL_SMTP_URL: EMAIL.HITL_SMTP_URL }, NO_ALLOWED_TARGETS).errors).toEqual([
      "HITL_PUBLIC_URL: must be set when HITL_SMTP_URL is: emails carry one-click links that start with it (e.g. https://hitl.example.com)",
      "HITL_EMAIL_FROM: must be set when HITL_SMTP_URL is, e.g. hitl <hitl@example.com>",
      "HITL_LINK_SECRET: set it (at least 32 characters), or HITL_MARKER_SECRET or WEBHOOK_SECRET, to sign one-click links",
    ]);
    expect(readMailChannels({ ...EMAIL, HITL_EMAIL_FROM: "hitl\r\nBcc: x@example.com" }, NO_ALLOWED_TARGETS).errors).toEqual([
      "HITL_EMAIL_FROM: must be an address, or a name and an address in angle brackets, e.g. hitl <hitl@example.com>",
    ]);
    expect(readMailChannels({ HITL_SMTP_URL: "http://mail.example.com", HITL_LINK_SECRET: "short" }, NO_ALLOWED_TARGETS).errors).toEqual([
      "HITL_LINK_SECRET: must be at least 32 characters",
      "HITL_SMTP_URL: must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587",
    ]);
    expect(readMailChannels({ HITL_INBOUND_EMAIL_SECRET: "inbound-secret-0123" }, NO_ALLOWED_TARGETS).errors).toEqual([
      "HITL_INBOUND_EMAIL_SECRET: replies answer hitl's emails; set HITL_SMTP_URL and HITL_EMAIL_FROM too",
    ]);
  });

  it("reads Twilio, and keeps its API URL to public https unless HITL_ALLOWED_PRIVATE_TARGETS lists it", () => {
    expect(readMailChannels(TWILIO, NO_ALLOWED_TARGETS).settings.twilio).toEqual({ accountSid: "AC0123456789abcdef", authToken: "twilio-token-0123", from: "+14155550199", apiUrl: "https://api.twilio.com" });
    expect(readMailChannels({ ...TWILIO, HITL_TWILIO_API_URL: "http://127.0.0.1:9999" }, NO_ALLOWED_TARGETS).errors).toEqual([
      "HITL_TWILIO_API_URL: must be an https URL (http only for hosts in HITL_ALLOWED_PRIVATE_TARGETS)",
    ]);
    expect(readMailChannels({ ...TWILIO, HITL_TWILIO_API_URL: "http://127.0.0.1:9999" }, parseAllowedTargets("127.0.0.1").targets).errors).toEqual([]);
    expect(readMailChannels({ HITL_TWILIO_ACCOUNT_SID: "AC0123456789abcdef", HITL_TWILIO_FROM: "555-0199" }, NO_ALLOWED_TARGETS).errors).toEqual([
      "HITL_TWILIO_ACCOUNT_SID, HITL_TWILIO_AUTH_TOKEN and HITL_TWILIO_FROM must be set together",
      "HITL_PUBLIC_URL: must be set when HITL_TWILIO_ACCOUNT_SID is: text messages carry one-click links that start with it (e.g. https://hitl.example.com)",
      "HITL_LINK_SECRET: set it (at least 32 characters), or HITL_MARKER_SECRET or WEBHOOK_SECRET, to sign one-click links",
    ]);
  });

  it("never echoes a secret in its errors", () => {
    const { errors } = readMailChannels({ HITL_SMTP_URL: "smtp://user:hunter2-password@mail.example.com", HITL_TWILIO_AUTH_TOKEN: "tok", HITL_INBOUND_EMAIL_SECRET: "s3cr" }, NO_ALLOWED_TARGETS);
    expect(errors.join("\n")).not.toMatch(/hunter2|tok\b|s3cr/);
  });
});
