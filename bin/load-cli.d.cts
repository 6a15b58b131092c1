import type vm from 'node:vm';

export declare const bundlePath: string;
export declare const cachePath: string;
/** The bundle's exports ({ main }) and its compiled script (for making the cache). */
export declare function loadCli(useCache?: boolean): { cli: { main(argv: string[]): Promise<number> }; script: vm.Script };
