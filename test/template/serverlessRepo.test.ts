/**
 * template.yaml's `AWS::ServerlessRepo::Application` metadata is what `sam publish` needs and SAR accepts:
 * every field present and within SAR's documented limits, the version is package.json's, the license and
 * readme files exist (the readme reads well outside the repository), and the readme's parameter and output
 * names are the template's.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../testbed/cfnTemplate.js';
import { packageJson, sar, template } from './serverlessRepoFixtures.js';

/** Semantic Versioning 2.0.0 (semver.org). */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const FIVE_MB = 5 * 1024 * 1024;

const hasIntrinsic = (node: unknown): boolean =>
  Array.isArray(node)
    ? node.some(hasIntrinsic)
    : node !== null && typeof node === 'object'
      ? Object.entries(node).some(([key, value]) => key === 'Ref' || key.startsWith('Fn::') || hasIntrinsic(value))
      : false;

describe('the SAR metadata (template.yaml Metadata.AWS::ServerlessRepo::Application)', () => {
  it('has every field sam publish sends, with no intrinsic functions (SAR does not resolve them)', () => {
    for (const field of [
      'Name',
      'Description',
      'Author',
      'SpdxLicenseId',
      'LicenseUrl',
      'ReadmeUrl',
      'Labels',
      'HomePageUrl',
      'SemanticVersion',
      'SourceCodeUrl',
    ] as const) {
      expect(sar[field]).toBeTruthy();
    }
    expect(hasIntrinsic(sar)).toBe(false);
  });

  it('stays within the limits SAR documents for name, description, author and labels', () => {
    expect(sar.Name).toMatch(/^[a-zA-Z0-9-]{1,140}$/);
    expect(sar.Description.length).toBeGreaterThan(0);
    expect(sar.Description.length).toBeLessThanOrEqual(256);
    expect(sar.Author).toMatch(/^[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?$/);
    expect(sar.Author.length).toBeLessThanOrEqual(127);
    expect(sar.Labels.length).toBeLessThanOrEqual(10);
    for (const label of sar.Labels) expect(label).toMatch(/^[a-zA-Z0-9+\-_:/@]{1,127}$/);
  });

  it('publishes the version package.json carries, as a semantic version', () => {
    expect(typeof sar.SemanticVersion).toBe('string');
    expect(sar.SemanticVersion).toMatch(SEMVER);
    expect(sar.SemanticVersion).toBe(packageJson.version);
  });

  it('has the version of the newest CHANGELOG entry and of the Elixir package (one version for the project)', () => {
    const changelog = readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8');
    expect(/^## \[([^\]]+)\]/m.exec(changelog)?.[1]).toBe(sar.SemanticVersion);
    const mix = readFileSync(path.join(ROOT, 'elixir/mix.exs'), 'utf8');
    expect(/@version "([^"]+)"/.exec(mix)?.[1]).toBe(sar.SemanticVersion);
  });

  it('declares the license package.json declares, and LicenseUrl is the Apache-2.0 text in LICENSE', () => {
    expect(sar.SpdxLicenseId).toBe('Apache-2.0');
    expect(packageJson.license).toBe(sar.SpdxLicenseId);
    expect(sar.LicenseUrl).toBe('LICENSE');
    const license = readFileSync(path.join(ROOT, sar.LicenseUrl), 'utf8');
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(statSync(path.join(ROOT, sar.LicenseUrl)).size).toBeLessThan(FIVE_MB);
  });

  it('points ReadmeUrl at a file in the repository, under 5 MB, whose links all work outside it', () => {
    const readmePath = path.join(ROOT, sar.ReadmeUrl);
    expect(path.relative(ROOT, readmePath).startsWith('..')).toBe(false);
    expect(statSync(readmePath).size).toBeLessThan(FIVE_MB);
    const readme = readFileSync(readmePath, 'utf8');
    const links = [...readme.matchAll(/\]\(([^)]+)\)/g)].map((match) => match[1]);
    for (const link of links) expect(link).toMatch(/^https:\/\//);
  });

  it('names in its readme exactly the template parameters, and outputs the template has', () => {
    const readme = readFileSync(path.join(ROOT, sar.ReadmeUrl), 'utf8');
    const table = readme.slice(
      readme.indexOf('## Parameters'),
      readme.indexOf('\n## ', readme.indexOf('## Parameters') + 1),
    );
    const named = [...table.matchAll(/^\| (.+?) \|/gm)]
      .flatMap((row) => [...row[1]!.matchAll(/`([A-Za-z]+)`/g)].map((name) => name[1]!))
      .sort();
    expect(named).toEqual(Object.keys(template.Parameters).sort());
    const outputs = [...readme.matchAll(/`([A-Za-z]+)` output/g)].map((match) => match[1]!);
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) expect(Object.keys(template.Outputs ?? {})).toContain(output);
  });

  it('links the source the README tells Elixir users to depend on, as the Elixir package does', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const gitUrl = /\{:ecs_peers, git: "(https:\/\/[^"]+)\.git"/.exec(readme)?.[1];
    expect(gitUrl).toBeDefined();
    expect(sar.SourceCodeUrl).toBe(gitUrl);
    expect(sar.HomePageUrl).toBe(gitUrl);
    const mix = readFileSync(path.join(ROOT, 'elixir/mix.exs'), 'utf8');
    expect(/@source_url "([^"]+)"/.exec(mix)?.[1]).toBe(gitUrl);
  });
});
