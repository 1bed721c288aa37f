import type ExcelJS from 'exceljs';

/**
 * exceljs, loaded by the first workbook read or written rather than at start-up: importing it costs
 * about 20 MB of resident memory per process (bench/RESULTS.md, memory), and most processes of most
 * days (the scheduler, a worker sending texts) never touch a workbook. Node caches the module after
 * the first call.
 */
export async function loadExcel(): Promise<typeof ExcelJS> {
  return (await import('exceljs')).default;
}
