import { describe, expect, it } from "vitest";
import { isPrivateAddress, NO_ALLOWED_TARGETS, parseAllowedTargets, targetRefusal } from "../../src/notify/private-targets.js";

const PRIVATE = "must not be a private, loopback, link-local or metadata address unless HITL_ALLOWED_PRIVATE_TARGETS lists it";
const HTTP = "must be an https URL (http only for hosts in HITL_ALLOWED_PRIVATE_TARGETS)";

describe("private targets", () => {
  it("knows the addresses hitl never sends to unless allowed", () => {
    const refused = [
      "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.0.10", "169.254.169.254", "169.254.1.1",
      "100.64.0.1", "100.127.255.254", "0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250", "255.255.255.255",
      "::", "::1", "fc00::1", "fd00:ec2::254", "fe80::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:a00:1", "::7f00:1",
    ];
    const allowed = ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "192.169.0.1", "169.255.0.1", "2606:4700::1111", "::ffff:8.8.8.8"];
    expect(refused.filter((address) => !isPrivateAddress(address))).toEqual([]);
    expect(allowed.filter((address) => isPrivateAddress(address))).toEqual([]);
  });

  it("accepts public https URLs and refuses http and literal private addresses", () => {
    const cases = {
      "https://agent.example/hooks": null,
      "https://8.8.8.8/hooks": null,
      "http://agent.example/hooks": HTTP,
      "ftp://agent.example/hooks": HTTP,
      "https://127.0.0.1:8443/": PRIVATE,
      "https://2130706433/": PRIVATE, // 127.0.0.1 written as one number
      "https://0x7f.1/": PRIVATE,
      "https://169.254.169.254/latest/meta-data": PRIVATE,
      "https://[::1]/": PRIVATE,
      "https://[::ffff:127.0.0.1]/": PRIVATE,
      "https://[fd00:ec2::254]/": PRIVATE,
      "https://0.0.0.0/": PRIVATE,
      "not a url": "must be an https URL",
    };
    expect(Object.fromEntries(Object.keys(cases).map((url) => [url, targetRefusal(url, NO_ALLOWED_TARGETS)]))).toEqual(cases);
  });

  it("lets listed hosts and ranges be private, and take http", () => {
    const { targets, errors } = parseAllowedTargets(" Receiver.Internal ,10.0.0.0/8,127.0.0.1,fd12::/16,[::1],");
    expect(errors).toEqual([]);
    const cases = {
      "http://receiver.internal:8080/cb": null,
      "https://receiver.internal/cb": null,
      "http://10.20.30.40/cb": null,
      "http://127.0.0.1:9000/cb": null,
      "https://[::ffff:10.0.0.1]/cb": null,
      "http://[fd12::5]/cb": null,
      "http://[::1]:8080/cb": null,
      "http://127.0.0.2/cb": HTTP,
      "https://127.0.0.2/cb": PRIVATE,
      "https://192.168.1.1/cb": PRIVATE,
      // A name that is not listed may resolve into a listed range over https, but http needs the host itself listed.
      "http://other.internal/cb": HTTP,
    };
    expect(Object.fromEntries(Object.keys(cases).map((url) => [url, targetRefusal(url, targets)]))).toEqual(cases);
  });
});
