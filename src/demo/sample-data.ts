import type { CampaignInput } from '../services/campaigns.ts';
import type { OfficialInput } from '../services/officials.ts';
import type { UnitInput } from '../services/units.ts';

/**
 * Sample organisation and campaign from seed 004 (Tam Đường district, 6/2023: a special campaign
 * "from now until 30/10"). The seed leaves the plan's number blank; 01/KH-UBND stands in for it.
 * Dates are placed relative to today so the demo always has tasks coming due.
 */
export const SAMPLE_UNITS: ({ code: string } & UnitInput)[] = [
  { code: 'TAMDUONG', name: 'UBND huyện Tam Đường', kind: 'district' },
  { code: 'TD-NOIVU', name: 'Phòng Nội vụ huyện Tam Đường', parentCode: 'TAMDUONG', kind: 'department' },
  { code: 'TD-VHTT', name: 'Phòng Văn hóa và Thông tin', parentCode: 'TAMDUONG', kind: 'department' },
  { code: 'TD-TCKH', name: 'Phòng Tài chính - Kế hoạch', parentCode: 'TAMDUONG', kind: 'department' },
  { code: 'TD-MTTQ', name: 'Ủy ban MTTQ Việt Nam huyện', parentCode: 'TAMDUONG', kind: 'mass-organisation' },
  { code: 'TD-TT', name: 'UBND thị trấn Tam Đường', parentCode: 'TAMDUONG', kind: 'commune' },
  { code: 'TD-BINHLU', name: 'UBND xã Bình Lư', parentCode: 'TAMDUONG', kind: 'commune' },
  { code: 'TD-BANGIANG', name: 'UBND xã Bản Giang', parentCode: 'TAMDUONG', kind: 'commune' },
  { code: 'TD-SONBINH', name: 'UBND xã Sơn Bình', parentCode: 'TAMDUONG', kind: 'commune' },
  // A second sample organisation, as local government stands since 1 July 2025: a province, its departments
  // and its communes and wards, no district level (names for illustration). Its plan 02/KH-UBND runs while
  // two of its communes are merged (README, "Demo mode").
  { code: 'LAICHAU', name: 'UBND tỉnh Lai Châu', kind: 'province' },
  { code: 'LC-SNV', name: 'Sở Nội vụ tỉnh Lai Châu', parentCode: 'LAICHAU', kind: 'department' },
  { code: 'LC-TANPHONG', name: 'UBND phường Tân Phong', parentCode: 'LAICHAU', kind: 'commune' },
  { code: 'LC-DOANKET', name: 'UBND phường Đoàn Kết', parentCode: 'LAICHAU', kind: 'commune' },
  { code: 'LC-BINHLU', name: 'UBND xã Bình Lư', parentCode: 'LAICHAU', kind: 'commune' },
  { code: 'LC-BANBO', name: 'UBND xã Bản Bo', parentCode: 'LAICHAU', kind: 'commune' },
  { code: 'LC-KHUNHA', name: 'UBND xã Khun Há', parentCode: 'LAICHAU', kind: 'commune' },
];

export const SAMPLE_OFFICIALS: ({ code: string } & OfficialInput)[] = [
  { code: 'CB-ADMIN', name: 'Lò Thị Hoa', unitCode: 'TAMDUONG', role: 'admin' },
  { code: 'CB-CHUTICH', name: 'Sùng Lữ Páo', unitCode: 'TAMDUONG', role: 'leader' },
  { code: 'CB-NOIVU', name: 'Nguyễn Văn Thành', unitCode: 'TD-NOIVU', role: 'focal' },
  { code: 'CB-VHTT', name: 'Trần Thị Mai', unitCode: 'TD-VHTT', role: 'focal' },
  { code: 'CB-TCKH', name: 'Phạm Đức Long', unitCode: 'TD-TCKH', role: 'focal' },
  { code: 'CB-MTTQ', name: 'Giàng A Lử', unitCode: 'TD-MTTQ', role: 'focal' },
  { code: 'CB-TT', name: 'Hoàng Văn Dũng', unitCode: 'TD-TT', role: 'focal' },
  { code: 'CB-TT-CT', name: 'Vàng Thị Sen', unitCode: 'TD-TT', role: 'leader' },
  { code: 'CB-BINHLU', name: 'Tẩn Văn Chiến', unitCode: 'TD-BINHLU', role: 'focal' },
  { code: 'CB-BANGIANG', name: 'Lý Thị Thu', unitCode: 'TD-BANGIANG', role: 'focal' },
  { code: 'CB-SONBINH', name: 'Chảo Văn Minh', unitCode: 'TD-SONBINH', role: 'focal' },
  { code: 'CB-SONBINH-CV', name: 'Đỗ Thị Lan', unitCode: 'TD-SONBINH', role: 'member' },
  { code: 'LC-ADMIN', name: 'Đinh Thị Thanh', unitCode: 'LC-SNV', role: 'admin' },
  { code: 'LC-CHUTICH', name: 'Lê Văn Lương', unitCode: 'LAICHAU', role: 'leader' },
  { code: 'LC-CB-TANPHONG', name: 'Nguyễn Thu Hà', unitCode: 'LC-TANPHONG', role: 'focal' },
  { code: 'LC-CB-DOANKET', name: 'Vũ Đức Anh', unitCode: 'LC-DOANKET', role: 'focal' },
  { code: 'LC-CB-BINHLU', name: 'Giàng Thị Dợ', unitCode: 'LC-BINHLU', role: 'focal' },
  { code: 'LC-CB-BANBO', name: 'Lò Văn Xiêng', unitCode: 'LC-BANBO', role: 'focal' },
  { code: 'LC-CB-KHUNHA', name: 'Tẩn Láo Lở', unitCode: 'LC-KHUNHA', role: 'focal' },
];

function plusDays(today: string, days: number): string {
  const date = new Date(`${today}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

export const SAMPLE_CAMPAIGN_DOC_NUMBER = '01/KH-UBND';

export function sampleCampaign(today: string): CampaignInput {
  return {
    docNumber: SAMPLE_CAMPAIGN_DOC_NUMBER,
    title:
      'Phát động phong trào thi đua đặc biệt lập thành tích chào mừng kỷ niệm các sự kiện lịch sử của tỉnh',
    theme:
      'Thi đua đổi mới, sáng tạo, lập thành tích cao nhất chào mừng kỷ niệm 115 năm thành lập tỉnh, 75 năm thành lập Đảng bộ tỉnh, 70 năm ngày Bác Hồ gửi thư cho đồng bào và cán bộ Lai Châu, 20 năm chia tách, thành lập tỉnh',
    kind: 'special',
    issuerUnitCode: 'TAMDUONG',
    startsOn: today,
    endsOn: plusDays(today, 120),
    unitCodes: SAMPLE_UNITS.filter((unit) => unit.parentCode === 'TAMDUONG').map((unit) => unit.code),
    tasks: [
      {
        key: 'QUAN-TRIET',
        title: 'Quán triệt, triển khai kế hoạch đến toàn thể cán bộ, công chức, viên chức',
        dueOn: plusDays(today, 14),
      },
      {
        key: 'TUYEN-TRUYEN',
        title: 'Tuyên truyền về các hoạt động kỷ niệm các sự kiện lịch sử của tỉnh',
        dueOn: plusDays(today, 60),
      },
      {
        key: 'CONG-TRINH',
        title: 'Lựa chọn, xây dựng 01 công trình chào mừng các sự kiện lịch sử',
        dueOn: plusDays(today, 100),
      },
      {
        key: 'TONG-KET',
        title: 'Tổng kết phong trào thi đua, báo cáo kết quả về Phòng Nội vụ',
        dueOn: plusDays(today, 120),
      },
    ],
  };
}

/**
 * The second sample organisation's plan (the province after the 2025 reform): its communes and wards take
 * part; the first task falls due in ten days, so reminders and a merge in between show what happens.
 */
export const REFORM_CAMPAIGN_DOC_NUMBER = '02/KH-UBND';

export function reformCampaign(today: string): CampaignInput {
  return {
    docNumber: REFORM_CAMPAIGN_DOC_NUMBER,
    title: 'Phong trào thi đua "Chính quyền hai cấp vận hành thông suốt, phục vụ Nhân dân"',
    theme: 'Thi đua sắp xếp, kiện toàn tổ chức bộ máy, vận hành hiệu quả chính quyền địa phương hai cấp',
    kind: 'thematic',
    issuerUnitCode: 'LAICHAU',
    startsOn: today,
    endsOn: plusDays(today, 180),
    unitCodes: SAMPLE_UNITS.filter((unit) => unit.parentCode === 'LAICHAU' && unit.kind === 'commune').map(
      (unit) => unit.code,
    ),
    tasks: [
      {
        key: 'BAN-GIAO',
        title: 'Hoàn thành bàn giao hồ sơ, tài liệu của các đơn vị trước sắp xếp',
        dueOn: plusDays(today, 10),
      },
      {
        key: 'MOT-CUA',
        title: 'Vận hành Trung tâm phục vụ hành chính công cấp xã',
        dueOn: plusDays(today, 45),
      },
      {
        key: 'SO-KET',
        title: 'Sơ kết 6 tháng vận hành chính quyền địa phương hai cấp',
        dueOn: plusDays(today, 180),
      },
    ],
  };
}
