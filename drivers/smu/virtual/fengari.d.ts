/** The parts of fengari (a Lua 5.3 VM in JavaScript, https://github.com/fengari-lua/fengari) the virtual 2600B uses. */
declare module 'fengari' {
  type LuaState = object;
  type JsFunction = (L: LuaState) => number;
  const fengari: {
    to_luastring(s: string): Uint8Array;
    lua: {
      LUA_OK: number;
      LUA_TNIL: number;
      LUA_TBOOLEAN: number;
      LUA_TNUMBER: number;
      LUA_TSTRING: number;
      LUA_TTABLE: number;
      LUA_MASKCOUNT: number;
      LUA_MULTRET: number;
      lua_gettop(L: LuaState): number;
      lua_settop(L: LuaState, idx: number): void;
      lua_type(L: LuaState, idx: number): number;
      lua_tonumber(L: LuaState, idx: number): number;
      lua_toboolean(L: LuaState, idx: number): boolean;
      lua_tojsstring(L: LuaState, idx: number): string;
      lua_rawlen(L: LuaState, idx: number): number;
      lua_rawgeti(L: LuaState, idx: number, n: number): number;
      lua_pushnumber(L: LuaState, n: number): void;
      lua_pushboolean(L: LuaState, b: boolean): void;
      lua_pushnil(L: LuaState): void;
      lua_pushstring(L: LuaState, s: Uint8Array): void;
      lua_pushliteral(L: LuaState, s: string): void;
      lua_createtable(L: LuaState, narr: number, nrec: number): void;
      lua_rawseti(L: LuaState, idx: number, n: number): void;
      lua_pushjsfunction(L: LuaState, f: JsFunction): void;
      lua_setglobal(L: LuaState, name: Uint8Array): void;
      lua_pushnil(L: LuaState): void;
      lua_error(L: LuaState): never;
      lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
      lua_sethook(L: LuaState, f: ((L: LuaState, ar: unknown) => void) | null, mask: number, count: number): void;
    };
    lauxlib: {
      luaL_newstate(): LuaState;
      luaL_loadbuffer(L: LuaState, s: Uint8Array, sz: number | null, name: Uint8Array): number;
      luaL_error(L: LuaState, fmt: Uint8Array): never;
    };
    lualib: { luaL_openlibs(L: LuaState): void };
  };
  export default fengari;
}
