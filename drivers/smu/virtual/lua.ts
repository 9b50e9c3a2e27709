/**
 * The 2600B's TSP is Lua: this runs what a client sends in a real Lua 5.3 (fengari, a maintained Lua VM
 * in JavaScript), with the instrument's objects (`smua`, `display`, `errorqueue` ...) as proxy tables whose
 * fields the host resolves by dotted path. The sandbox has no io, os, package or debug library, a budget of
 * Lua instructions per chunk (a client's `while true do end` cannot hang the virtual instrument) and a
 * memory budget per chunk: a string is at most 1 MB (string.rep and concatenation alike) and a chunk may
 * create at most 64 MB of string bytes. fengari has no allocator hook and makes every Lua string a
 * Uint8Array, so while a chunk runs (synchronously: nothing else runs meanwhile) `Uint8Array` is a subclass
 * that counts what is created and refuses more; the count hook could not catch a string doubled in a loop,
 * which reaches gigabytes within the few instructions between two hooks. Over budget, the chunk fails with
 * the 2600B's run-time error "not enough memory" (Lua's LUA_ERRMEM message; fengari unwinds the chunk as for
 * any error; a `pcall` that catches it gets false, "not enough memory") and the instrument goes on.
 * Errors carry the 2600B's numbers: -285 syntax, -286 run time, or the code a host function throws.
 */
import fengari from 'fengari';
import { type TspHost, type TspValue } from './tsp.ts';
import { instrumentError, queueCode, type InstrumentError } from '../../transport/errors.ts';

const { lua, lauxlib, lualib, to_luastring } = fengari;
type L = Parameters<typeof lua.lua_gettop>[0];

/** What a dotted path names on the instrument. */
export type TspKind = 'attr' | 'func' | 'node';

export interface LuaHost extends TspHost {
  kind(path: string): TspKind | undefined;
}

/**
 * Bytes of one string, and of all strings one chunk creates. The second counts garbage too (what is still
 * referenced cannot be told from here), so it is set well above what a script keeps: a 60 kB report built by
 * 5,000 appends creates 150 MB of intermediate strings, which a real 2600B collects as it goes.
 */
const MAX_STRING_BYTES = 1 << 20;
const CHUNK_STRING_BYTES = 256 << 20;

const Bytes = Uint8Array;
/** Bytes created by the running chunk. */
let created = 0;
/** Whether the running chunk was refused memory and nothing caught it yet (pcall takes it: PRELUDE). */
let refused = false;
/** `Uint8Array` while a chunk runs: counts and caps what fengari allocates (its strings); other arrays are instances too. */
class BudgetedBytes extends Bytes {
  constructor(...args: unknown[]) {
    const n = typeof args[0] === 'number' ? args[0] : ArrayBuffer.isView(args[0]) || Array.isArray(args[0]) ? (args[0] as ArrayLike<unknown>).length : 0;
    if (n > MAX_STRING_BYTES || created + n > CHUNK_STRING_BYTES) {
      refused = true;
      throw new RangeError('not enough memory');
    }
    created += n;
    super(...(args as []));
  }
  static [Symbol.hasInstance](x: unknown): boolean {
    return x instanceof Bytes;
  }
}

/** Instructions one chunk may execute (a 2,500-point sweep script and its read-back need well under a million). */
const INSTRUCTION_BUDGET = 5_000_000;
const HOOK_EVERY = 10_000;
/** Marks an instrument object crossing between Lua and the host: REF + its path. */
const REF = '\u0000ref:';
/** Marks an error message that carries an instrument error code: CODE + code + CODE + message. */
const CODE = '\u0001';

const PRELUDE = `
local kind, get, set, call, refusal = _tsp_kind, _tsp_get, _tsp_set, _tsp_call, _tsp_refusal
_tsp_kind, _tsp_get, _tsp_set, _tsp_call, _tsp_refusal = nil, nil, nil, nil, nil
-- A memory refusal is a JavaScript exception inside fengari, which leaves no Lua error value: what catches
-- one answers false, "not enough memory" (as Lua does) and takes it, so a later failure of the chunk is its own.
local function caught(ok, ...)
  if not ok and refusal() then return false, "not enough memory" end
  return ok, ...
end
local pcall0, xpcall0, resume0 = pcall, xpcall, coroutine.resume
pcall = function(...) return caught(pcall0(...)) end
xpcall = function(...) return caught(xpcall0(...)) end
coroutine.resume = function(...) return caught(resume0(...)) end
local REF = "\\0ref:"
local paths = setmetatable({}, { __mode = "k" })
local proxies = {}
local proxy
local function wrapall(...)
  local n, t = select("#", ...), { ... }
  for i = 1, n do
    local v = t[i]
    if type(v) == "string" and v:sub(1, 5) == REF then t[i] = proxy(v:sub(6)) end
  end
  return table.unpack(t, 1, n)
end
local function unwrapall(...)
  local n, t = select("#", ...), { ... }
  for i = 1, n do
    local p = paths[t[i]]
    if p then t[i] = REF .. p end
  end
  return table.unpack(t, 1, n)
end
local function child(path, k)
  if math.type(k) == "integer" or (type(k) == "number" and k == math.floor(k)) then
    return path .. "[" .. string.format("%d", k) .. "]"
  end
  return path .. "." .. tostring(k)
end
local function fn(path)
  return function(...) return wrapall(call(path, unwrapall(...))) end
end
proxy = function(path)
  local p = proxies[path]
  if p then return p end
  p = setmetatable({}, {
    __index = function(_, k)
      local cp = child(path, k)
      local kd = kind(cp)
      if kd == "func" then return fn(cp) end
      if kd == "node" then return proxy(cp) end
      if kd == "attr" then return (wrapall(get(cp))) end
      return nil
    end,
    __newindex = function(_, k, v) set(child(path, k), (unwrapall(v))) end,
    __len = function() return get(path .. "#") end,
  })
  paths[p] = path
  proxies[path] = p
  return p
end
for name in string.gmatch(_tsp_nodes, "[^,]+") do _G[name] = proxy(name) end
for name in string.gmatch(_tsp_funcs, "[^,]+") do _G[name] = fn(name) end
_tsp_nodes, _tsp_funcs = nil, nil
io, os, package, require, dofile, loadfile, debug = nil, nil, nil, nil, nil, nil, nil
local rep = string.rep
string.rep = function(s, n, sep)
  if #s * n > 1048576 then error("string.rep: result larger than the virtual instrument's 1 MB limit") end
  return rep(s, n, sep)
end
`;

export class TspLua {
  private readonly L: L;
  private steps = 0;

  /**
   * @param nodes top-level instrument objects (smua, smub, display ...)
   * @param funcs top-level instrument functions (print, delay, waitcomplete ...)
   * @param library Lua source run once after them (factory scripts)
   */
  constructor(
    private readonly host: LuaHost,
    nodes: string[],
    funcs: string[],
    library: string,
  ) {
    const L = (this.L = lauxlib.luaL_newstate());
    lualib.luaL_openlibs(L);
    this.native('_tsp_kind', (L) => (this.push(L, host.kind(this.str(L, 1)) ?? null), 1));
    this.native('_tsp_get', (L) => (this.push(L, host.get(this.str(L, 1)) ?? null), 1));
    this.native('_tsp_refusal', (L) => {
      lua.lua_pushboolean(L, refused);
      refused = false;
      return 1;
    });
    this.native('_tsp_set', (L) => (host.set(this.str(L, 1), this.toJs(L, 2)), 0));
    this.native('_tsp_call', (L) => {
      const args: TspValue[] = [];
      for (let i = 2; i <= lua.lua_gettop(L); i++) args.push(this.toJs(L, i));
      const path = this.str(L, 1);
      const out = host.call(path, args);
      if (out === undefined) throw instrumentError(-286, `attempt to call a nil value (field '${path}')`);
      for (const v of out) this.push(L, v);
      return out.length;
    });
    lua.lua_pushstring(L, to_luastring(nodes.join(',')));
    lua.lua_setglobal(L, to_luastring('_tsp_nodes'));
    lua.lua_pushstring(L, to_luastring(funcs.join(',')));
    lua.lua_setglobal(L, to_luastring('_tsp_funcs'));
    this.run(PRELUDE, 'prelude');
    if (library) this.run(library, 'factory scripts');
    lua.lua_sethook(
      L,
      (L) => {
        this.steps += HOOK_EVERY;
        if (this.steps > INSTRUCTION_BUDGET) this.raise(L, instrumentError(-286, 'TSP Runtime error: the chunk exceeded the virtual instrument\'s instruction budget'));
      },
      lua.LUA_MASKCOUNT,
      HOOK_EVERY,
    );
  }

  /** Compiles and runs one chunk; throws the instrument's own error (instrumentError: its code and message). */
  run(chunk: string, name = 'TSP'): void {
    const L = this.L;
    this.steps = 0;
    const top = lua.lua_gettop(L);
    const code = to_luastring(chunk);
    created = 0;
    refused = false;
    globalThis.Uint8Array = BudgetedBytes;
    try {
      if (lauxlib.luaL_loadbuffer(L, code, null, to_luastring(`=${name}`)) !== lua.LUA_OK)
        throw instrumentError(-285, this.message(lua.lua_tojsstring(L, -1), 'Syntax'));
      if (lua.lua_pcall(L, 0, 0, 0) !== lua.LUA_OK) {
        // refused by the memory budget, and not caught: a JavaScript exception inside the VM, which has no Lua message
        if (refused) throw instrumentError(-286, 'TSP Runtime error: not enough memory');
        const msg = lua.lua_type(L, -1) === lua.LUA_TSTRING ? lua.lua_tojsstring(L, -1) : 'error object is not a string';
        const coded = msg.indexOf(CODE);
        if (coded >= 0) {
          const [, code, text] = msg.slice(coded).split(CODE);
          throw instrumentError(Number(code), text);
        }
        throw instrumentError(-286, this.message(msg, 'Runtime'));
      }
    } finally {
      globalThis.Uint8Array = Bytes;
      lua.lua_settop(L, top);
    }
  }

  /** `TSP:3: unexpected symbol near '*'` → `TSP Syntax error at line 3: unexpected symbol near '*'`. */
  private message(raw: string, kind: 'Syntax' | 'Runtime'): string {
    const m = /^[^:]*:(\d+): ([\s\S]*)$/.exec(raw);
    return m ? `TSP ${kind} error at line ${m[1]}: ${m[2]}` : `TSP ${kind} error: ${raw}`;
  }

  private native(name: string, f: (L: L) => number): void {
    lua.lua_pushjsfunction(this.L, (L) => {
      try {
        return f(L);
      } catch (err) {
        this.raise(L, queueCode(err) !== undefined ? (err as InstrumentError) : instrumentError(-286, `TSP Runtime error: ${(err as Error).message}`));
      }
    });
    lua.lua_setglobal(this.L, to_luastring(name));
  }

  private raise(L: L, err: InstrumentError): never {
    lua.lua_pushstring(L, to_luastring(`${CODE}${err.instrumentCode}${CODE}${err.message}`));
    return lua.lua_error(L);
  }

  private str(L: L, i: number): string {
    return lua.lua_tojsstring(L, i);
  }

  private toJs(L: L, i: number): TspValue {
    const t = lua.lua_type(L, i);
    if (t === lua.LUA_TNUMBER) return lua.lua_tonumber(L, i);
    if (t === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, i);
    if (t === lua.LUA_TSTRING) {
      const s = lua.lua_tojsstring(L, i);
      return s.startsWith(REF) ? { ref: s.slice(REF.length) } : s;
    }
    if (t === lua.LUA_TTABLE) {
      const n = lua.lua_rawlen(L, i);
      const out: TspValue[] = [];
      for (let k = 1; k <= n; k++) {
        lua.lua_rawgeti(L, i, k);
        out.push(this.toJs(L, -1));
        lua.lua_settop(L, -2);
      }
      return out;
    }
    return null;
  }

  private push(L: L, v: TspValue | string): void {
    if (v === null) lua.lua_pushnil(L);
    else if (typeof v === 'number') lua.lua_pushnumber(L, v);
    else if (typeof v === 'boolean') lua.lua_pushboolean(L, v);
    else if (typeof v === 'string') lua.lua_pushstring(L, to_luastring(v));
    else if (Array.isArray(v)) {
      lua.lua_createtable(L, v.length, 0);
      v.forEach((x, k) => (this.push(L, x), lua.lua_rawseti(L, -2, k + 1)));
    } else lua.lua_pushstring(L, to_luastring(REF + v.ref));
  }
}
