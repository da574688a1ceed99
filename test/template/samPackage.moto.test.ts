/**
 * The publishing steps of docs/deploy.md work on the real tools as far as they run without AWS: `sam build`,
 * then `sam package` against moto's S3 uploads the bundle, LICENSE and the SAR readme and writes their S3
 * URLs into the packaged template, and `sam publish`'s own request builder turns that template into a
 * CreateApplication request that botocore's validation of the SAR API accepts. (SAR itself is not in moto, so
 * the request is built and validated, not sent.)
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';
import { ROOT } from '../../testbed/cfnTemplate.js';
import { startMoto, type MotoServer } from '../../testbed/motoServer.js';
import { packageJson, pythonTool, runTool, sar } from './serverlessRepoFixtures.js';

const BUCKET = 'ecs-peers-sar-artifacts';
const PREFIX = `ecs-peers/${packageJson.version}`;

/** What `sam publish` does before it calls SAR: parse, check the metadata, strip it, build the request. */
const PUBLISH_REQUEST = `
import json, sys, botocore.session
from botocore.validate import validate_parameters
from samcli.vendor.serverlessrepo.parser import get_app_metadata, parse_template, strip_app_metadata
from samcli.vendor.serverlessrepo.publish import _create_application_request
from samcli.yamlhelper import yaml_dump
template = parse_template(open(sys.argv[1]).read())
request = _create_application_request(get_app_metadata(template), yaml_dump(strip_app_metadata(template)))
model = botocore.session.get_session().get_service_model('serverlessrepo')
validate_parameters(request, model.operation_model('CreateApplication').input_shape)
print(json.dumps(request))
`;

/** For each s3:// URI: the object's SHA-256 and, for a zip, its file names; read from moto with boto3. */
const S3_OBJECTS = `
import hashlib, io, json, sys, zipfile, boto3
s3 = boto3.client('s3')
out = {}
for uri in sys.argv[1:]:
    bucket, key = uri[len('s3://'):].split('/', 1)
    body = s3.get_object(Bucket=bucket, Key=key)['Body'].read()
    names = zipfile.ZipFile(io.BytesIO(body)).namelist() if zipfile.is_zipfile(io.BytesIO(body)) else None
    out[uri] = {'sha256': hashlib.sha256(body).hexdigest(), 'zip': names}
print(json.dumps(out))
`;

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(path.join(ROOT, file)))
    .digest('hex');

describe('sam build + sam package against moto S3, then the sam publish request', () => {
  let moto: MotoServer;
  let work: string;
  let packagedPath: string;
  let packaged: {
    Metadata: Record<string, Record<string, unknown>>;
    Resources: Record<string, { Properties: Record<string, unknown> }>;
  };

  beforeAll(async () => {
    moto = await startMoto();
    work = await mkdtemp(path.join(tmpdir(), 'ecs-peers-sar-'));
    const created = await fetch(`${moto.endpoint}/${BUCKET}`, { method: 'PUT' });
    if (!created.ok) throw new Error(`moto did not create the bucket: HTTP ${created.status}`);
    const sam = await pythonTool('sam');
    await runTool(sam, ['build', '--template-file', 'template.yaml', '--build-dir', path.join(work, 'build')]);
    packagedPath = path.join(work, 'packaged.yaml');
    await runTool(
      sam,
      [
        'package',
        '--template-file',
        path.join(work, 'build/template.yaml'),
        '--s3-bucket',
        BUCKET,
        '--s3-prefix',
        PREFIX,
        '--output-template-file',
        packagedPath,
      ],
      { AWS_ENDPOINT_URL: moto.endpoint },
    );
    // The packaged template has no short-form tags (sam package writes long form), so plain YAML reads it.
    packaged = load(await readFile(packagedPath, 'utf8')) as typeof packaged;
  }, 120_000);

  afterAll(async () => {
    await moto?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** The uploaded objects, as moto holds them. */
  const objects = async (...uris: string[]) => {
    const { stdout } = await runTool(await pythonTool('python'), ['-c', S3_OBJECTS, ...uris], {
      AWS_ENDPOINT_URL: moto.endpoint,
    });
    return JSON.parse(stdout) as Record<string, { sha256: string; zip: string[] | null }>;
  };

  it('uploads LICENSE and the SAR readme and points the metadata at them', async () => {
    const metadata = packaged.Metadata['AWS::ServerlessRepo::Application']!;
    const [license, readme] = [String(metadata.LicenseUrl), String(metadata.ReadmeUrl)];
    expect(license).toMatch(new RegExp(`^s3://${BUCKET}/${PREFIX}/`));
    expect(readme).toMatch(new RegExp(`^s3://${BUCKET}/${PREFIX}/`));
    const uploaded = await objects(license, readme);
    expect(uploaded[license]!.sha256).toBe(await sha256(sar.LicenseUrl));
    expect(uploaded[readme]!.sha256).toBe(await sha256(sar.ReadmeUrl));
    expect(metadata.SemanticVersion).toBe(packageJson.version);
  });

  it('uploads the built bundle, with its source map, as the function code', async () => {
    const codeUri = String(packaged.Resources.ReconcileFunction!.Properties.CodeUri);
    expect(codeUri).toMatch(new RegExp(`^s3://${BUCKET}/${PREFIX}/`));
    const uploaded = await objects(codeUri);
    expect(uploaded[codeUri]!.zip?.sort()).toEqual(['index.mjs', 'index.mjs.map']);
  });

  it("builds a CreateApplication request that sam publish's checks and botocore's validation accept", async () => {
    const python = await pythonTool('python');
    const { stdout } = await runTool(python, ['-c', PUBLISH_REQUEST, packagedPath]);
    const request = JSON.parse(stdout) as Record<string, string | string[]>;
    const metadata = packaged.Metadata['AWS::ServerlessRepo::Application']!;
    expect(request).toMatchObject({
      Name: sar.Name,
      Author: sar.Author,
      Description: sar.Description,
      SpdxLicenseId: 'Apache-2.0',
      LicenseUrl: metadata.LicenseUrl,
      ReadmeUrl: metadata.ReadmeUrl,
      SemanticVersion: packageJson.version,
      SourceCodeUrl: sar.SourceCodeUrl,
      Labels: sar.Labels,
    });
    const body = load(String(request.TemplateBody)) as { Transform: string; Metadata?: Record<string, unknown> };
    expect(body.Transform).toBe('AWS::Serverless-2016-10-31');
    expect(body.Metadata?.['AWS::ServerlessRepo::Application']).toBeUndefined();
    expect(body.Metadata?.['AWS::CloudFormation::Interface']).toBeDefined();
  });
});
