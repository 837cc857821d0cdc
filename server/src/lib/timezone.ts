// alipay-sdk stamps requests with the process's local time, and Alipay reads them as Beijing time
// (ALIPAY.md §1.4). Import this first in every entry point.
process.env.TZ = 'Asia/Shanghai';
