import fs from 'node:fs';
import path from 'node:path';
import {
  Controller,
  Get,
  Header,
  Inject,
  NotFoundException,
  Param,
  Res,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { ConsoleSecurity } from '../auth/bearer-tokens';
import { CONSOLE_SECURITY } from './common';
import { ENDPOINT_SPEC, type EndpointSpec } from './endpoint';
import { openApiDocument } from './openapi';

interface ResponseLike {
  type(contentType: string): ResponseLike;
  setHeader(name: string, value: string): void;
  send(body: Buffer | string): void;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/** The dashboard's files: libs/console/static in the repository (found from the compiled code under dist/). */
export function dashboardDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'libs', 'console', 'static');
    if (fs.existsSync(path.join(candidate, 'index.html'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`libs/console/static not found above ${__dirname}`);
  }
}

const SWAGGER_UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const SWAGGER_FILES = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png']);

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Tributary console API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, tryItOutEnabled: true });\n`;

/** One file from a directory, by a plain name (no paths): what a static route may serve. */
function serveFile(res: ResponseLike, dir: string, name: string, allowed?: Set<string>): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/.test(name) || (allowed && !allowed.has(name)))
    throw new NotFoundException(`no file ${name}`);
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) throw new NotFoundException(`no file ${name}`);
  res.type(TYPES[path.extname(name)] ?? 'application/octet-stream');
  res.setHeader('Cache-Control', 'no-cache');
  res.send(fs.readFileSync(file));
}

/** The OpenAPI document and Swagger UI over it at /docs. */
@Controller()
export class DocsController implements OnModuleInit {
  private document: Record<string, unknown> = {};

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(CONSOLE_SECURITY) private readonly security: ConsoleSecurity | null,
  ) {}

  /** Collects the endpoint specs of every controller in the application. */
  onModuleInit(): void {
    const specs: EndpointSpec[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const proto = (wrapper.metatype as { prototype?: object } | null)?.prototype;
      if (!proto) continue;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const method = (proto as Record<string, unknown>)[name];
        if (typeof method !== 'function') continue;
        const spec = Reflect.getMetadata(ENDPOINT_SPEC, method) as EndpointSpec | undefined;
        if (spec) specs.push(spec);
      }
    }
    this.document = openApiDocument(specs, '0.1.0', { bearerAuth: this.security !== null });
  }

  @Get('/openapi.json')
  openapi(): Record<string, unknown> {
    return this.document;
  }

  @Get('/docs')
  @Header('Content-Type', 'text/html; charset=utf-8')
  docs(): string {
    return DOCS_PAGE;
  }

  @Get('/docs/init.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  init(): string {
    return DOCS_INIT;
  }

  @Get('/docs/:file')
  asset(@Param('file') file: string, @Res() res: ResponseLike): void {
    serveFile(res, SWAGGER_UI_DIR, file, SWAGGER_FILES);
  }
}

/** The dashboard: a static page with plain ES modules that polls the REST API. */
@Controller()
export class DashboardController {
  private readonly dir = dashboardDir();

  @Get('/')
  index(@Res() res: ResponseLike): void {
    serveFile(res, this.dir, 'index.html');
  }

  @Get('/ui/:file')
  asset(@Param('file') file: string, @Res() res: ResponseLike): void {
    serveFile(res, this.dir, file);
  }
}
