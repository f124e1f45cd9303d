// Type declarations of kep.js, the browser client of the kep agent.

export declare const DEFAULT_PORT: number;

/** Stable reasons: the agent's (ORIGIN_NOT_APPROVED, PIN_INCORRECT, PIN_LOCKED,
 * TOKEN_NOT_PRESENT, CERT_NOT_FOUND, USER_CANCELLED, CLOCK_SKEW, ORIGIN_MISMATCH, …)
 * and the client's own (AGENT_UNREACHABLE, AGENT_PORT_BUSY,
 * LOCAL_NETWORK_ACCESS_DENIED, CONNECTION_CLOSED, AGENT_NOT_TRUSTED), and the
 * extension road's (EXTENSION_NOT_INSTALLED, HOST_NOT_REGISTERED, HOST_FORBIDDEN,
 * HOST_EXITED, HOST_ERROR, EXTENSION_TIMEOUT, AGENT_REFUSED). */
export declare class KepError extends Error {
  reason: string;
  /** When connect() failed: what happened on each road. */
  roads?: Roads;
  messageRu: string;
  data: { reason?: string; ckr?: string; messageRu?: string; details?: Record<string, unknown> };
}

export interface Discovery { name: "kep"; version: string; protocol: number; ws: string }

export interface AgentInfo {
  name: string; version: string; protocol: number; origin: string;
  approved: boolean; pagePin: boolean; methods: string[]; capabilities: string[]; maxMessage: number;
  /** The agent's key for this origin (base64 DER SPKI, ECDSA P-256), given to approved sites. */
  agentKey?: string;
}

export interface Token {
  source: "pkcs11" | "soft"; label: string; model: string; manufacturer: string;
  pinPad: boolean; pinCountLow: boolean; pinFinalTry: boolean; pinLocked: boolean;
}

export interface Qualified {
  surname?: string; givenName?: string; commonName?: string; organization?: string; title?: string;
  email?: string; inn?: string; innLE?: string; ogrn?: string; ogrnip?: string; snils?: string;
  notBefore: string; notAfter: string; issuerCommonName?: string; serial: string;
  [field: string]: unknown;
}

export interface Certificate {
  id: string; subject: string; issuer: string; serial: string; notBefore: string; notAfter: string;
  keyAlgorithm: string; qualified: Qualified; keyId: string;
  key: "present" | "login-required" | "missing" | "mismatch" | "unsupported";
  canSign: boolean; token: Token; certificate: string;
}

export interface SignResult {
  cms: Uint8Array; cmsBase64: string; certId: string; hashAlg: string; hash: string; signingTime: string;
}

export interface LoginChallenge { nonce: string; origin: string; serverTime: string; expires: string }
export interface LoginResponse { format: "bound" | "esia-compatible"; cms: string }

type Data = Uint8Array | ArrayBuffer | ArrayBufferView | Blob | string;

export declare function fromBase64(b64: string): Uint8Array;
export declare function discover(opts?: { port?: number; timeout?: number }): Promise<Discovery>;
export type Road = "extension" | "websocket";
export type RoadOutcome = { ok: true } | { ok?: false; reason: string; message: string };
export interface Roads { extension?: RoadOutcome; websocket?: RoadOutcome }
/** Whether kep's browser extension is in this page. */
export declare function extensionInstalled(): boolean;
/** road "auto" (default): the extension when installed, else the WebSocket. */
export declare function connect(opts?: { port?: number; timeout?: number; road?: "auto" | Road; extensionTimeout?: number }): Promise<Kep>;

export declare class Kep {
  agent: AgentInfo;
  /** The road this connection took. */
  road: Road;
  /** What connect() found on each road it tried. */
  roads: Roads;
  call(method: string, params?: object): Promise<any>;
  on(name: "tokens.changed" | "close" | string, fn: (params: any) => void): () => void;
  info(): Promise<AgentInfo>;
  requestAccess(): Promise<{ approved: true }>;
  /** Rejects with AGENT_NOT_TRUSTED when the program on the port is not the agent this site pinned. */
  verifyAgent(): Promise<void>;
  ensureAccess(): Promise<void>;
  /** agent.diagnose, plus transport: { road, extension?, websocket? }. */
  diagnose(): Promise<any>;
  tokens(): Promise<Token[]>;
  certificates(): Promise<Certificate[]>;
  checkCertificate(certId: string, purpose?: "sign" | "login" | "any"): Promise<{ certId: string; valid: boolean; result: any; summary: { ru: string; en: string } }>;
  sign(opts: { certId: string; data: Data; detached?: boolean; description?: string;
    onProgress?: (sent: number, total: number) => void; pin?: string }): Promise<SignResult>;
  signHash(opts: { certId: string; hash: Data; hashAlg: "streebog256" | "streebog512" | "sha256" | "sha384" | "sha512";
    description?: string; pin?: string }): Promise<SignResult>;
  verify(opts: { cms: Data; data?: Data; purpose?: string }): Promise<{ report: any; summary: { ru: string; en: string } }>;
  login(opts: { certId: string; challenge: LoginChallenge | string; format?: "bound" | "esia-compatible"; pin?: string }): Promise<LoginResponse>;
  close(): void;
}
